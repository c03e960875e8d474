// End to end: an action committed but not yet carried out when the server is SIGKILLed is
// sent after the restart, once, and confirmed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-outbox-"));
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const json = { "content-type": "application/json" };

/** Polls the real server (it runs on real time) until `check` holds; bounded. */
async function until<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (check(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached in 10 s");
}

test("a pending start survives SIGKILL between commit and confirmation and is carried out once", async () => {
  const env = { VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`, VIGIL_RECONCILE_INTERVAL: "off" };
  const first = await startVigil(env);
  running.push(first);
  // A start that takes 1.5 s on the simulated substrate: the kill lands while it is pending.
  await fetch(`${first.url}/v1/objects/w`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({ policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 1500 } } }),
  });
  const reply = (await (
    await fetch(`${first.url}/v1/objects/w/facts`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ facts: { queue: { depth: 1 } } }),
    })
  ).json()) as { decision: { id: string; actions: { id: string; kind: string; status: string }[] } };
  expect(reply.decision.actions).toMatchObject([{ kind: "start", status: "pending" }]);
  first.kill("SIGKILL");
  await first.exited;

  const second = await startVigil(env);
  running.push(second);
  const object = await until(
    async () => (await (await fetch(`${second.url}/v1/objects/w`)).json()) as { state: string },
    (o) => o.state === "active",
  );
  expect(object.state).toBe("active");
  const decision = (await (await fetch(`${second.url}/v1/decisions/${reply.decision.id}`)).json()) as {
    actions: { id: string; status: string }[];
  };
  expect(decision.actions).toEqual([{ id: reply.decision.actions[0]!.id, kind: "start", status: "confirmed" }]);
  // Once: no other decision issued another start, and none is pending.
  const list = (await (await fetch(`${second.url}/v1/objects/w/decisions?limit=50`)).json()) as {
    items: { actions: { kind: string; status: string }[] }[];
  };
  expect(list.items.flatMap((d) => d.actions)).toEqual([
    { id: expect.any(String), kind: "start", status: "confirmed" },
  ]);
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
