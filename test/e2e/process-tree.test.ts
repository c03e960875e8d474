// End to end with the real server: a forking workload on the process substrate. A Ctrl-C in
// the server's terminal (SIGINT to its process group) stops the server and not the governed
// tree; the restarted server re-adopts the tree by its group, freezes all of it on dormancy
// (every process in state T), and deleting the object ends it.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { groupMembers, readStat } from "../../src/substrate/process/proc.ts";
import { killGroups, startVigil, type VigilProcess } from "../helpers/process.ts";
import { WAIT_MS } from "../helpers/eventually.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-tree-e2e-"));
const running: VigilProcess[] = [];
const groups: number[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  killGroups(groups);
  rmSync(dir, { recursive: true, force: true });
});

const json = { "content-type": "application/json" };
const LOOP = (file: string) => `while :; do echo . >> ${file}; sleep 0.05; done`;

/**
 * Polls the real server (real time) until `check` holds; fails loudly after 30 s (WAIT_MS, under
 * the suite's 60 s test timeout: a tree's processes are scheduled at a loaded machine's pace).
 */
async function until<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < WAIT_MS / 50; i++) {
    last = await read();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not reached in ${WAIT_MS / 1000} s; last seen ${JSON.stringify(last)}`);
}

type ObjectView = {
  state: string;
  substrate: { observed: { pid?: number; reason?: string; processes?: { pid: number }[] } };
};
const get = async (url: string) => (await (await fetch(`${url}/v1/objects/tree`)).json()) as ObjectView;
const post = (url: string, facts: unknown) =>
  fetch(`${url}/v1/objects/tree/facts`, { method: "POST", headers: json, body: JSON.stringify({ facts }) });
const state = (pid: number) => readStat(pid)?.state;

test("SIGINT to the server's group spares the tree; a restart re-adopts it and freezes all of it", async () => {
  const env = { VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`, VIGIL_RECONCILE_INTERVAL: "off" };
  const first = await startVigil(env, [], { ownGroup: true });
  running.push(first);
  const put = await fetch(`${first.url}/v1/objects/tree`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({
      policy: "on-demand",
      substrate: {
        driver: "process",
        config: { command: "sh", args: ["-c", `(sh -c '${LOOP("grandchild")}' & ${LOOP("child")}) & wait`], cwd: dir },
      },
    }),
  });
  expect(put.status).toBe(201);
  await post(first.url, { work: { pending: 1 } });
  const active = await until(
    () => get(first.url),
    (o) => o.state === "active",
    "active",
  );
  const pid = active.substrate.observed.pid!;
  groups.push(pid);
  await until(
    async () => groupMembers(pid).length,
    (n) => n >= 3,
    "the tree has forked",
  );
  const tree = groupMembers(pid);

  // Ctrl-C in the server's terminal: the server stops cleanly, the tree runs on.
  process.kill(-first.child.pid!, "SIGINT");
  expect(await first.exited).toBe(0);
  // Each pid read once: a short-lived member (a `sleep`) may exit between two reads.
  expect(tree.filter((p) => state(p) === "T")).toEqual([]);
  expect(state(pid)).toMatch(/^[RSD]$/);

  const second = await startVigil(env, [], { ownGroup: true });
  running.push(second);
  const adopted = await get(second.url);
  expect(adopted.state).toBe("active");
  expect(adopted.substrate.observed).toMatchObject({ pid, reason: "adopted after restart" });

  await post(second.url, { work: { pending: 0 } });
  const dormant = await until(
    () => get(second.url),
    (o) => o.state === "dormant",
    "dormant",
  );
  const frozen = dormant.substrate.observed.processes!.map((p) => p.pid);
  expect(frozen).toContain(pid);
  expect(frozen.length).toBeGreaterThanOrEqual(3);
  expect(new Set(frozen.map(state))).toEqual(new Set(["T"]));
  const sizes = ["child", "grandchild"].map((f) => readFileSync(join(dir, f), "utf8").length);

  // Deleting the object stops its tree (compute=stop is the default).
  expect((await fetch(`${second.url}/v1/objects/tree`, { method: "DELETE" })).status).toBe(204);
  expect(groupMembers(pid)).toEqual([]);
  expect(["child", "grandchild"].map((f) => readFileSync(join(dir, f), "utf8").length)).toEqual(sizes);
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
