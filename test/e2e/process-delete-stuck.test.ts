// End to end with the real server: a DELETE of an object whose compute cannot be stopped for now,
// a process of its tree stuck in the kernel (state `D`; here one frozen in a v1 freezer cgroup,
// which a SIGKILL does not end until it is thawed). The stop's failure is retryable, so the DELETE
// is a 503 that names the process and deletes nothing; once the process can exit, the DELETE sent
// again stops it and deletes the object. Both for the object's live tree and for leftovers of a
// tree whose leader exited on its own. Real server, real processes, real HTTP.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import { groupStats, liveStat } from "../../src/substrate/process/proc.ts";
import { WAIT_MS } from "../helpers/eventually.ts";
import { Freezers, freezerV1 } from "../helpers/freezer.ts";
import { killGroups, startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-delete-stuck-"));
const running: VigilProcess[] = [];
const groups: number[] = [];
const freezers = new Freezers();
afterEach(async () => {
  for (const p of running.splice(0)) p.kill("SIGKILL");
  killGroups(groups);
  await freezers.thawAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = { "content-type": "application/json" };

type ObjectView = { state: string; substrate: { observed: { pid?: number; leftovers?: { pgid: number }[] } | null } };

/** A server, and object `id` awake on a tree whose leader (sh) has one child; the leader's pid and the child's. */
async function awake(id: string): Promise<{ url: string; pid: number; child: number }> {
  const server = await startVigil({ VIGIL_DB_URL: `file:${join(dir, `${id}.db`)}`, VIGIL_RECONCILE_INTERVAL: "off" });
  running.push(server);
  const url = server.url;
  const put = await fetch(`${url}/v1/objects/${id}`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({
      policy: "on-demand",
      substrate: { driver: "process", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 100 } },
    }),
  });
  expect(put.status).toBe(201);
  await fetch(`${url}/v1/objects/${id}/facts`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ facts: { work: { pending: 1 } } }),
  });
  let pid = 0;
  expect(
    await polled(async () => {
      const o = await view(url, id);
      pid = o?.state === "active" ? (o.substrate.observed?.pid ?? 0) : 0;
      return pid !== 0 && groupStats(pid).length === 2;
    }),
  ).toBe(true);
  groups.push(pid);
  return { url, pid, child: groupStats(pid).find((m) => m.pid !== pid)!.pid };
}

async function view(url: string, id: string): Promise<ObjectView | null> {
  const r = await fetch(`${url}/v1/objects/${id}`);
  return r.status === 200 ? ((await r.json()) as ObjectView) : null;
}

/** Whether `check` held within WAIT_MS of real time, read every 50 ms (the server answers over HTTP). */
async function polled(check: () => Promise<boolean>): Promise<boolean> {
  const end = performance.now() + WAIT_MS;
  while (performance.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const remove = (url: string, id: string) => fetch(`${url}/v1/objects/${id}`, { method: "DELETE" });

test.skipIf(!freezerV1)(
  "a DELETE whose stop is stuck is a 503 that deletes nothing; sent again once it can exit, it deletes",
  async () => {
    const { url, pid, child } = await awake("stuck");
    const frozen = await freezers.freeze("vigil-delete-stuck", child);

    const refused = await remove(url, "stuck");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      `the process substrate could not stop the compute of "stuck": cannot confirm the stop of the process tree of ${pid}: process ${child} of it has not exited 10 s after its SIGKILL; try again, or delete with compute=keep`,
    );
    expect(liveStat(child, null)).not.toBeNull();
    expect(await view(url, "stuck")).not.toBeNull();

    // Thawed, the process exits of the SIGKILL it has pending: the DELETE sent again deletes.
    freezers.thaw(frozen);
    expect((await remove(url, "stuck")).status).toBe(204);
    expect(liveStat(child, null)).toBeNull();
    expect(await view(url, "stuck")).toBeNull();
  },
  60_000,
);

test.skipIf(!freezerV1)(
  "a DELETE whose object's leftovers are stuck is a 503 that deletes nothing; sent again once they can exit, it deletes",
  async () => {
    const { url, pid, child } = await awake("left");
    const frozen = await freezers.freeze("vigil-delete-left", child);
    // The leader exits on its own; its child, frozen, is the object's leftovers.
    process.kill(pid, "SIGHUP");
    expect(await polled(async () => (await view(url, "left"))?.substrate.observed?.leftovers?.[0]?.pgid === pid)).toBe(
      true,
    );
    // The rules woke the object again: a new tree, which the DELETE stops.
    const again = (await view(url, "left"))!.substrate.observed!.pid!;
    groups.push(again);

    const refused = await remove(url, "left");
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      `the process substrate could not stop the compute of "left": cannot confirm the stop of the process tree of ${pid}: process ${child} of it has not exited 10 s after its SIGKILL; try again, or delete with compute=keep`,
    );
    expect(liveStat(child, null)).not.toBeNull();
    expect(await view(url, "left")).not.toBeNull();

    freezers.thaw(frozen);
    expect((await remove(url, "left")).status).toBe(204);
    expect(liveStat(child, null)).toBeNull();
    expect(groupStats(again)).toEqual([]);
    expect(await view(url, "left")).toBeNull();
  },
  60_000,
);
