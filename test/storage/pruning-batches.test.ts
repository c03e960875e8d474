// Retention deletes decisions in bounded batches (docs/architecture.md: "Steps 2 to 5 delete in
// bounded batches (5,000 rows) ... so a large backlog never holds the writer for long"), by age
// and by count alike: pruning by count once deleted an object's whole excess in one write.

import { afterEach, expect, test } from "vitest";
import { Retention } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { T0, arrivalBatch, makeObject } from "../helpers/records.ts";

let store: LibsqlStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

const decId = (at: number, n: number) => `dec_${at.toString(36).padStart(9, "0")}${String(n).padStart(6, "0")}`;

/** Decisions deleted by each call of the store's writer (the real one, counted on the way). */
function spyDeletes(s: LibsqlStore): number[] {
  const perWrite: number[] = [];
  const inner = (s as unknown as { writer: { write: (st: unknown[]) => Promise<void> } }).writer;
  const write = inner.write.bind(inner);
  inner.write = async (statements: unknown[]) => {
    let n = 0;
    for (const st of statements as { sql: string; args: unknown[] }[])
      if (st.sql.startsWith("DELETE FROM decisions WHERE id IN")) n += st.args.length;
    if (n > 0) perWrite.push(n);
    return write(statements);
  };
  return perWrite;
}

async function fill(s: LibsqlStore, objectId: string, count: number) {
  for (let i = 0; i < count; i += 500) {
    const batches = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const at = T0 + j;
      batches.push(arrivalBatch(makeObject({ id: objectId, updatedAt: at, memoryVersion: j }), decId(at, j), { at }));
    }
    await s.commit(batches);
  }
}

const keepAll = { journalMs: null, decisionsMs: null, decisionsPerObject: null, idempotencyMs: null };

test("by age: every write deletes at most 5,000 decisions", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  await fill(store, "busy", 12_000);
  const perWrite = spyDeletes(store);
  const clock = new VirtualClock(T0 + 24 * 3_600_000);
  const report = await new Retention(store, clock, { ...keepAll, decisionsMs: 3_600_000 }).runOnce();
  expect(report.decisions).toBe(12_000);
  expect(perWrite.reduce((a, b) => a + b, 0)).toBe(12_000);
  expect(Math.max(...perWrite)).toBeLessThanOrEqual(5_000);
});

test("by count: every write deletes at most 5,000 decisions, and the newest N stay", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  await fill(store, "busy", 12_000);
  const perWrite = spyDeletes(store);
  const clock = new VirtualClock(T0 + 3_600_000);
  const report = await new Retention(store, clock, { ...keepAll, decisionsPerObject: 10 }).runOnce();
  expect(report.decisions).toBe(11_990);
  expect(perWrite.reduce((a, b) => a + b, 0)).toBe(11_990);
  expect(Math.max(...perWrite)).toBeLessThanOrEqual(5_000);
  expect(await store.listDecisions("busy", 100)).toHaveLength(10);
});

// A review: pruning by count deleted an object's excess newest first, a batch a write, so a prune
// cut short (a later batch refused, or the server stopped between two) left the oldest decisions
// and the newest N with a hole between them, where replay takes a kept decision to mean that none
// after it is gone. Oldest first, what is left is always the newest decisions, whole.
test.each([
  // The first batch (the oldest 5,000) holds it: nothing goes.
  { refused: 100, kept: 12_000 },
  // The second batch holds it: the oldest 5,000 went.
  { refused: 7_000, kept: 7_000 },
])(
  "by count: a prune cut short by a refused batch leaves the newest decisions, with no hole (%o)",
  async ({ refused, kept }) => {
    store = new LibsqlStore({ url: ":memory:" });
    await store.migrate();
    await fill(store, "busy", 12_000);
    const ids = (await store.client.execute("SELECT id FROM decisions ORDER BY id")).rows.map((r) => String(r.id));
    // The database refuses to delete one decision of the excess (a full disk, say).
    await store.client.execute(
      `CREATE TRIGGER refuse BEFORE DELETE ON decisions WHEN OLD.id = '${ids[refused]}' BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    const errors: string[] = [];
    const clock = new VirtualClock(T0 + 3_600_000);
    await new Retention(store, clock, { ...keepAll, decisionsPerObject: 10 }, (e) => errors.push(e.message)).runOnce();
    expect(errors).toEqual([expect.stringContaining("disk full")]);
    const left = (await store.client.execute("SELECT id FROM decisions ORDER BY id")).rows.map((r) => String(r.id));
    expect(left).toEqual(ids.slice(ids.length - kept));
    // The next run, with the disk freed, prunes the rest.
    await store.client.execute("DROP TRIGGER refuse");
    await new Retention(store, clock, { ...keepAll, decisionsPerObject: 10 }).runOnce();
    expect((await store.client.execute("SELECT id FROM decisions ORDER BY id")).rows.map((r) => String(r.id))).toEqual(
      ids.slice(-10),
    );
    const count = await store.client.execute("SELECT decision_count FROM objects WHERE id = 'busy'");
    expect(Number(count.rows[0]!.decision_count)).toBe(10);
  },
);

// A review: the actions left by decisions pruned while they were pending were deleted only with
// an age window (step 4 ran with VIGIL_DECISION_RETENTION alone): pruning by count alone kept
// them for ever. By count alone, step 4 passes over every action, a page of 5,000 at a time.
test("by count alone: done actions of pruned decisions go, read a page of 5,000 actions at a time", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  for (let i = 0; i < 6_000; i += 500) {
    const batches = [];
    for (let j = i; j < i + 500; j++) {
      const at = T0 + j;
      const action = {
        id: `act_${at.toString(36).padStart(9, "0")}${String(j).padStart(6, "0")}`,
        kind: "start" as const,
      };
      batches.push(
        arrivalBatch(makeObject({ id: "busy", updatedAt: at, memoryVersion: j }), decId(at, j), {
          at,
          actions: [action],
        }),
      );
    }
    await store.commit(batches);
  }
  const clock = new VirtualClock(T0 + 3_600_000);
  const retention = new Retention(store, clock, { ...keepAll, decisionsPerObject: 10 });
  // Pending, the actions of the decisions that go stay to be sent.
  expect(await retention.runOnce()).toMatchObject({ decisions: 5_990, actions: 0 });
  await store.client.execute("UPDATE actions SET status = 'confirmed'");
  const pages: { after: string | null; scan: number; next: string | null }[] = [];
  const prune = store.pruneActions;
  Object.assign(store, {
    pruneActions: async (before: number, after: string | null, scan: number) => {
      const page = await prune(before, after, scan);
      pages.push({ after, scan, next: page.next });
      return page;
    },
  });
  expect(await retention.runOnce()).toMatchObject({ decisions: 0, actions: 5_990 });
  const ids = (await store.client.execute("SELECT id FROM actions ORDER BY id")).rows.map((r) => String(r.id));
  expect(ids).toHaveLength(10); // the kept decisions' actions
  expect(pages.map((p) => p.scan)).toEqual([5_000, 5_000]);
  expect(pages[0]!.after).toBeNull();
  expect(pages[1]!.next).toBeNull();
});

// A review: the journal fold read every object to fold in one query, with no page, an answer as
// large as the database. It reads a page of 5,000 objects at a time now.
test("the journal fold reads the objects to fold a page of 5,000 at a time, and folds every one", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  const ids = Array.from({ length: 5_001 }, (_, i) => `o-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < ids.length; i += 1_000)
    await store.commit(
      ids.slice(i, i + 1_000).map((id, j) =>
        arrivalBatch(makeObject({ id, memoryVersion: 1, updatedAt: T0 }), decId(T0, i + j), {
          journal: { seq: 1, patch: { n: 1 }, at: T0 },
        }),
      ),
    );
  const pages: { after: string | null; limit: number; got: number }[] = [];
  const read = store.compactableJournal.bind(store);
  store.compactableJournal = async (before, after, limit) => {
    const page = await read(before, after, limit);
    pages.push({ after, limit, got: page.targets.length });
    return page;
  };
  const clock = new VirtualClock(T0 + 24 * 3_600_000);
  const report = await new Retention(store, clock, { ...keepAll, journalMs: 3_600_000 }).runOnce();
  expect(report.compacted).toBe(5_001);
  expect(pages).toEqual([
    { after: null, limit: 5_000, got: 5_000 },
    { after: "o-04999", limit: 5_000, got: 1 },
  ]);
  expect((await store.journal("o-05000", -1, 10)).map((e) => e.kind)).toEqual(["snapshot"]);
});

// A review: the page was bounded by the objects it found to fold, so with few of them (every hour
// once the backlog is folded) one read went through the whole journal. It reads the journal of a
// page of 5,000 objects at a time, whether or not any has an entry to fold.
test("the journal fold reads the journal of 5,000 objects at a time, with none to fold", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  const ids = Array.from({ length: 5_001 }, (_, i) => `o-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < ids.length; i += 1_000)
    await store.commit(
      ids.slice(i, i + 1_000).map((id, j) =>
        arrivalBatch(makeObject({ id, memoryVersion: 1, updatedAt: T0 }), decId(T0, i + j), {
          journal: { seq: 1, patch: { n: 1 }, at: T0 },
        }),
      ),
    );
  const pages: { after: string | null; got: number; next: string | null }[] = [];
  const read = store.compactableJournal.bind(store);
  store.compactableJournal = async (before, after, scan) => {
    const page = await read(before, after, scan);
    pages.push({ after, got: page.targets.length, next: page.next });
    return page;
  };
  const statements: { sql: string; args: unknown[] }[] = [];
  const execute = store.client.execute.bind(store.client);
  Object.assign(store.client, {
    execute: (st: { sql: string; args: unknown[] }) => {
      if (typeof st === "object" && st.sql.includes("FROM journal WHERE object_id >")) statements.push(st);
      return execute(st as never);
    },
  });
  // Every entry is younger than the window: nothing to fold.
  const clock = new VirtualClock(T0 + 30 * 60_000);
  const report = await new Retention(store, clock, { ...keepAll, journalMs: 3_600_000 }).runOnce();
  expect(report.compacted).toBe(0);
  expect(pages).toEqual([
    { after: null, got: 0, next: "o-04999" },
    { after: "o-04999", got: 0, next: null },
  ]);
  // Each read of the journal is a range of its key, bounded on both sides by the page.
  expect(statements).toHaveLength(2);
  for (const st of statements) {
    const plan = await execute({ sql: `EXPLAIN QUERY PLAN ${st.sql}`, args: st.args } as never);
    expect(plan.rows.map((r) => String(r.detail))).toContain(
      "SEARCH journal USING INDEX sqlite_autoindex_journal_1 (object_id>? AND object_id<?)",
    );
  }
});

// A review: with an index on actions' object_id alone, each statement deleting a batch's actions
// read every action of the object, so pruning a history of a million cost 2.4 s for every 5,000
// decisions. Migration 0006 indexes (object_id, decision_id); the plan of each statement pruning
// writes says that it looks each one up.
test("the actions of pruned decisions are looked up by (object_id, decision_id), never scanned", async () => {
  store = new LibsqlStore({ url: ":memory:" });
  await store.migrate();
  await fill(store, "busy", 600);
  const statements: { sql: string; args: unknown[] }[] = [];
  const inner = (store as unknown as { writer: { write: (st: unknown[]) => Promise<void> } }).writer;
  const write = inner.write.bind(inner);
  inner.write = async (st: unknown[]) => {
    statements.push(...(st as { sql: string; args: unknown[] }[]));
    return write(st);
  };
  const clock = new VirtualClock(T0 + 24 * 3_600_000);
  await new Retention(store, clock, { ...keepAll, decisionsMs: 3_600_000 }).runOnce();
  await new Retention(store, clock, { ...keepAll, decisionsPerObject: 10 }).runOnce();
  const actionDeletes = statements.filter((s) => s.sql.startsWith("DELETE FROM actions WHERE object_id IN"));
  expect(actionDeletes.length).toBeGreaterThan(0);
  for (const st of actionDeletes) {
    const plan = await store.client.execute({ sql: `EXPLAIN QUERY PLAN ${st.sql}`, args: st.args as never });
    const steps = plan.rows.map((r) => String(r.detail));
    expect(steps).toContain("SEARCH actions USING INDEX actions_object (object_id=? AND decision_id=?)");
  }
});
