// Shutdown stops retention (Retention.stop) and waits for a run under way, so that the governor
// and the store are not closed under it. Found in a review: nothing told the run to stop, so it
// went on over every object left in it: a shutdown during a run over a large backlog waited for
// the rest of it (up to VIGIL_DRAIN_TIMEOUT and the 5 s after it, then exited with the database
// open and the lease held). Now a stopped run touches no further object: only the one under way
// finishes, and nothing of an object is deleted that its snapshot has not taken in.

import { afterEach, expect, test } from "vitest";
import { FOLD_CHUNK, Retention, RETENTION_INTERVAL_MS } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A retention whose work on each object waits until the test lets the first one go on. */
function gated(services: TestServices, policy: ConstructorParameters<typeof Retention>[2]) {
  const touched: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const retention = new Retention(
    services.store,
    services.clock,
    policy,
    () => {},
    async (id, task) => {
      touched.push(id);
      if (touched.length === 1) await released;
      return services.governor.exclusive(id, task);
    },
  );
  return { retention, touched, release };
}

const counts = async (ids: string[]) =>
  Promise.all(ids.map(async (id) => (await s!.governor.listDecisions(id, 100)).length));

test("a run under way when retention stops trims no further object", async () => {
  s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
  const ids = ["a", "b", "c"];
  for (const id of ids) await s.governor.putObject(id, { policy: "queue-worker" });
  for (let i = 1; i <= 8; i++) for (const id of ids) await s.governor.postFacts(id, { n: i });
  const before = await counts(ids);

  const { retention, touched, release } = gated(s, {
    journalMs: null,
    decisionsMs: null,
    decisionsPerObject: 2,
    idempotencyMs: 3_600_000,
  });
  retention.start();
  await s.clock.advance(RETENTION_INTERVAL_MS);
  for (let i = 0; i < 20 && touched.length === 0; i++) await tick();
  expect(touched).toEqual(["a"]);

  const stopped = retention.stop();
  release();
  await stopped;
  // The object under way was trimmed; the others were not touched.
  expect(touched).toEqual(["a"]);
  expect(await counts(ids)).toEqual([2, before[1], before[2]]);
});

test("a fold of a long journal stops between its chunks, and the decisions it had not taken in stay", async () => {
  s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
  await s.governor.putObject("w", { policy: "queue-worker" });
  // Enough journal entries before the cutoff for the fold to take more than one chunk.
  const entries = FOLD_CHUNK + 10;
  for (let i = 1; i <= entries; i++) await s.governor.postFacts("w", { n: i });
  await s.advance(2 * 86_400_000);
  const [oldest] = await s.store.decisionsAfter("w", 1);

  const folds: number[] = [];
  const compact = s.store.compactJournal.bind(s.store);
  let stop!: () => Promise<void>;
  let stopped: Promise<void> | null = null;
  s.store.compactJournal = async (objectId, through, snapshot) => {
    folds.push(through);
    await compact(objectId, through, snapshot);
    stopped ??= stop();
  };
  const retention = new Retention(
    s.store,
    s.clock,
    { journalMs: 86_400_000, decisionsMs: 86_400_000, decisionsPerObject: null, idempotencyMs: 3_600_000 },
    () => {},
    (id, task) => s!.governor.exclusive(id, task),
  );
  retention.start();
  stop = () => retention.stop();
  await s.clock.advance(RETENTION_INTERVAL_MS);
  for (let i = 0; i < 200 && stopped === null; i++) await tick();
  await stopped;
  // One chunk folded; the run stopped there, and no decision went.
  expect(folds).toHaveLength(1);
  expect(await s.governor.getDecision(oldest!.id)).toMatchObject({ id: oldest!.id });
});
