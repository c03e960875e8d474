// End to end: an action committed but not yet carried out when the server is SIGKILLed is
// sent after the restart, by the restarted process, once, and confirmed.

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

/**
 * Latency of the simulated start: long enough that the kill surely lands before it completes
 * (a reply and one read come between; 60-150 ms on a loaded machine, where 1.5 s was the margin).
 */
const START_MS = 5_000;

/** Polls the real server (it runs on real time) until `check` holds; throws after 40 s, within the test's 60. */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 40_000;
  let last: T = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`${what} not reached in 40 s; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

type DecisionBody = { actions: { id: string; kind: string; status: string }[] };
type ObjectBody = { state: string; stateSince: string; substrate: { observed: { status: string; at: string } | null } };

test("a pending start survives SIGKILL between commit and confirmation and is carried out once", async () => {
  const env = { VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`, VIGIL_RECONCILE_INTERVAL: "off" };
  const first = await startVigil(env);
  running.push(first);
  // A start that takes START_MS on the simulated substrate: the kill lands while it is pending.
  const put = await fetch(`${first.url}/v1/objects/w`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({ policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: START_MS } } }),
  });
  expect(put.status).toBe(201);
  const posted = await fetch(`${first.url}/v1/objects/w/facts`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ facts: { queue: { depth: 1 } } }),
  });
  expect(posted.status).toBe(200);
  const reply = (await posted.json()) as { decision: { id: string } & DecisionBody };
  expect(reply.decision.actions).toMatchObject([{ kind: "start", status: "pending" }]);
  const actionId = reply.decision.actions[0]!.id;
  // Still pending in the first process right before the kill: it never confirmed the start.
  const beforeKill = await getJson<DecisionBody>(`${first.url}/v1/decisions/${reply.decision.id}`);
  expect(beforeKill.actions).toEqual([{ id: actionId, kind: "start", status: "pending" }]);
  first.kill("SIGKILL");
  await first.exited;

  const secondSpawnedAt = Date.now();
  const second = await startVigil(env);
  running.push(second);
  const object = await until(
    "the object active in the second process",
    () => getJson<ObjectBody>(`${second.url}/v1/objects/w`),
    (o) => o.state === "active",
  );
  // The confirmation was made by the second process: the driver's observation, and the move to
  // active, are both later than its spawn (the first process was dead by then).
  expect(object.substrate.observed?.status).toBe("running");
  expect(Date.parse(object.substrate.observed!.at)).toBeGreaterThanOrEqual(secondSpawnedAt);
  expect(Date.parse(object.stateSince)).toBeGreaterThanOrEqual(secondSpawnedAt);
  const decision = await getJson<DecisionBody>(`${second.url}/v1/decisions/${reply.decision.id}`);
  expect(decision.actions).toEqual([{ id: actionId, kind: "start", status: "confirmed" }]);
  // Once: no other decision issued another start, and none is pending.
  const list = await getJson<{ items: DecisionBody[] }>(`${second.url}/v1/objects/w/decisions?limit=50`);
  expect(list.items.flatMap((d) => d.actions)).toEqual([
    { id: expect.any(String), kind: "start", status: "confirmed" },
  ]);
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
