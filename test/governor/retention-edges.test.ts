// Retention's edges, each found in review: decisions sharing a millisecond across the line a
// snapshot moves to, a snapshot left where it is though facts came since, how much journal a
// move reads, and an object re-created while a compaction runs.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { lifecycleAt } from "../../src/core/history.ts";
import type { Decision } from "../../src/core/types.ts";
import { Retention, type RetentionPolicy } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});
const keepAll: RetentionPolicy = { journalMs: null, decisionsMs: null, decisionsPerObject: null, idempotencyMs: null };
const queueWorker = () => JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as unknown;
const all = async (services: TestServices): Promise<Decision[]> =>
  (await services.governor.listDecisions("w", 1000)).reverse();

test("pruning by count through a decision that shares its millisecond with a kept one: the seed takes the kept one in too", async () => {
  s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
  const g = s.governor;
  await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
  await s.advance(60_000);
  await g.postFacts("w", { queue: { depth: 2 } }); // wakes
  await s.advance(60_000);
  // The same millisecond: a fact (decision A), then a crash the driver reports (decision B).
  await g.postFacts("w", { n: 1 });
  s.driver.crash("w", "stopped");
  await s.advance(0);
  const history = await all(s);
  const [a, b] = history.slice(-2);
  expect(a).toMatchObject({ trigger: { kind: "facts" }, memoryVersion: 2 });
  expect(b).toMatchObject({ trigger: { kind: "substrate" }, at: a!.at, fromState: "dormant", toState: "waking" });

  // Keep 1 decision: B stays, A (and older) go; the snapshot is moved up to A.
  await new Retention(s.store, s.clock, { ...keepAll, journalMs: 30 * DAY, decisionsPerObject: 1 }).runOnce();
  expect((await all(s)).map((d) => d.id)).toEqual([b!.id]);
  const [snapshot] = await s.store.journal("w", -1, 1);
  expect(snapshot).toMatchObject({ kind: "snapshot", seq: 2, at: a!.at });
  // B is not "after" the snapshot (isAfter: only facts beyond it are, at its instant), so
  // replay and every later seed take it as inside it; the seed must then include it.
  expect(snapshot!.seed).toEqual(lifecycleAt(history, snapshot!.at, snapshot!.seq));
});

test("and a replay of the recorded policy over that history finds no difference", async () => {
  s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
  const g = s.governor;
  await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
  await s.advance(60_000);
  await g.postFacts("w", { queue: { depth: 2 } });
  await s.advance(60_000);
  await g.postFacts("w", { n: 1 });
  s.driver.crash("w", "stopped");
  await s.advance(0);
  await new Retention(s.store, s.clock, { ...keepAll, journalMs: 30 * DAY, decisionsPerObject: 1 }).runOnce();
  // Idle 30 s after the crash's re-wake: the dwell (minActive 2 min) counts from that re-wake.
  await s.advance(30_000);
  await g.postFacts("w", { queue: { depth: 0 } });
  await s.advance(10 * 60_000);
  const replay = await s.whatIf.replay("w", queueWorker());
  expect(replay.differences).toEqual([]);
});

test("decisions whose net effect was nil, with a fact since the snapshot, still move it up: a later snapshot among them keeps the hold pending then", async () => {
  s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
  const g = s.governor;
  const r = new Retention(s.store, s.clock, { ...keepAll, journalMs: 3 * HOUR, decisionsMs: HOUR });
  await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 2 } } }); // wakes
  await s.advance(10_000);
  await g.postFacts("w", { n: 1 });
  const early = await all(s); // the creation and n:1, read before they go
  await s.advance(HOUR + 10_000);
  await r.runOnce(); // deletes the creation and n:1; the snapshot moves up to n:1 (seq 1)
  expect(await s.store.journal("w", -1, 1)).toMatchObject([{ kind: "snapshot", seq: 1 }]);
  await g.postFacts("w", { jobs: { inflight: 1 } }); // sets the hold, due in 1 min
  await s.advance(30_000);
  await g.postFacts("w", { jobs: { inflight: 0 } }); // seq 3: the hold is still pending
  await s.advance(30_000); // the hold fires: a timer decision, nothing else changes
  const history = [...early, ...(await all(s))];
  expect(history.at(-1)).toMatchObject({ trigger: { kind: "timer", name: "hold" } });
  await s.advance(HOUR + 1_000);
  // Deletes those three decisions. Their net effect at the newest of them is nil (the hold was
  // set and fired), so the snapshot is not moved up: it stays at seq 1.
  await r.runOnce();
  await s.advance(2 * HOUR);
  await r.runOnce(); // folds the journal through seq 3, at the time of inflight 0
  const [snapshot] = await s.store.journal("w", -1, 1);
  expect(snapshot).toMatchObject({ kind: "snapshot", seq: 3 });
  // At that instant the hold (set by a deleted decision) was still pending.
  expect(snapshot!.seed).toEqual(lifecycleAt(history, snapshot!.at, snapshot!.seq));
});

test("moving a snapshot up reads the journal entries it folds, not the whole journal", async () => {
  const store = new LibsqlStore({ url: ":memory:" });
  s = await makeServices({ store });
  await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 2 } } });
  await s.advance(2 * HOUR);
  for (let i = 0; i < 300; i++) await s.governor.postFacts("w", { n: i });
  let read = 0;
  const journal = store.journal.bind(store);
  store.journal = async (...args) => {
    const rows = await journal(...args);
    read += rows.length;
    return rows;
  };
  const report = await new Retention(store, s.clock, { ...keepAll, journalMs: 30 * DAY, decisionsMs: HOUR }).runOnce();
  expect(report.decisions).toBe(1); // only the creation goes: its memory is journal entry 0
  expect(read).toBeLessThanOrEqual(1);
});

test("an object deleted and created again after the compaction targets were read: nothing of its young journal is folded", async () => {
  const store = new LibsqlStore({ url: ":memory:" });
  s = await makeServices({ store });
  const governor = s.governor;
  await governor.putObject("w", { policy: "queue-worker" });
  for (let n = 1; n <= 3; n++) await governor.postFacts("w", { n });
  await s.advance(2 * DAY);
  let first = true;
  const r = new Retention(
    store,
    s.clock,
    { journalMs: DAY, decisionsMs: null, decisionsPerObject: null, idempotencyMs: null },
    undefined,
    async (id, task) => {
      if (first) {
        // Meanwhile (after the targets were read), the object is deleted and made anew.
        first = false;
        await governor.deleteObject("w");
        await governor.putObject("w", { policy: "queue-worker" });
        for (let n = 1; n <= 3; n++) await governor.postFacts("w", { n });
      }
      return governor.exclusive(id, task);
    },
  );
  await r.runOnce();
  // Every entry of the new object is seconds old: none is older than the one-day window.
  expect((await store.journal("w", -1, 100)).map((e) => e.kind)).not.toContain("snapshot");
});
