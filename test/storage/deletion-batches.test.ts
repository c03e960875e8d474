// Deleting an object with a long history (storage/deletion.ts): the history goes a batch at a
// time, each batch its own write, so that other writes (another object's facts, the lease's
// renewal) go in between; the object's row goes last; a deletion a stopped server began is
// finished when the next one starts, before it serves.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { DELETION_BATCH } from "../../src/storage/deletion.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices } from "../helpers/services.ts";
import { T0, arrivalBatch, makeObject } from "../helpers/records.ts";

let dir: string;
const stores: LibsqlStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-deletion-"));
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** A store on a database file, so that writes go through the writer thread as a server's do. */
async function fileStore(): Promise<LibsqlStore> {
  const store = new LibsqlStore({ url: `file:${join(dir, "vigil.db")}` });
  stores.push(store);
  await store.migrate();
  return store;
}

const HISTORY = ["idempotency", "actions", "decisions", "journal"] as const;
/** Arrivals of the long history: more than two batches of every table. */
const LONG = 2 * DELETION_BATCH + 1_234;

const decId = (id: string, n: number) => `dec_${id}_${String(n).padStart(9, "0")}`;

/** `count` arrivals of `id`, each a decision, a journal entry, an action and an idempotency key. */
async function fill(store: LibsqlStore, id: string, count: number) {
  for (let i = 0; i < count; i += 1_000) {
    const batches = [];
    for (let j = i; j < Math.min(count, i + 1_000); j++)
      batches.push(
        arrivalBatch(makeObject({ id, updatedAt: T0 + j, memoryVersion: j + 1 }), decId(id, j), {
          journal: { seq: j + 1, patch: { n: j } },
          actions: [{ id: `act_${id}_${j}`, kind: "start" }],
          idempotency: { key: `k${j}`, fingerprint: "fp", decisionId: decId(id, j) },
          timerOps: j === 0 ? [{ op: "set", name: "t", dueAt: T0 + 60_000, kind: "schedule" }] : [],
        }),
      );
    await store.commit(batches);
  }
}

/** The object's rows, by table. */
async function rowsOf(store: LibsqlStore, id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [...HISTORY, "timers"]) {
    const { rows } = await store.client.execute({
      sql: `SELECT COUNT(*) AS n FROM ${table} WHERE object_id = ?`,
      args: [id],
    });
    counts[table] = Number(rows[0]!.n);
  }
  const { rows } = await store.client.execute({ sql: "SELECT COUNT(*) AS n FROM objects WHERE id = ?", args: [id] });
  counts.objects = Number(rows[0]!.n);
  return counts;
}

/** Calls `each` after every write of the store's writer (the real one) has committed. */
function afterEachWrite(store: LibsqlStore, each: (statements: { sql: string }[]) => Promise<void> | void) {
  const writer = (store as unknown as { writer: { write: (st: { sql: string }[]) => Promise<void> } }).writer;
  const write = writer.write.bind(writer);
  writer.write = async (statements) => {
    await write(statements);
    await each(statements);
  };
}

test("a long history is deleted in writes of at most one batch a table, the object's row last", async () => {
  const store = await fileStore();
  await fill(store, "long", LONG);
  await fill(store, "kept", 3);
  const seen: Record<string, number>[] = [await rowsOf(store, "long")];
  afterEachWrite(store, async () => void seen.push(await rowsOf(store, "long")));

  expect(await store.deleteObject("long")).toBe(true);

  // The mark, then at least two batches of each table, then the row with the rest.
  expect(seen.length).toBeGreaterThanOrEqual(2 + 2 * HISTORY.length + 1);
  for (let i = 1; i < seen.length; i++)
    for (const table of HISTORY) expect(seen[i - 1]![table]! - seen[i]![table]!).toBeLessThanOrEqual(DELETION_BATCH);
  expect(seen.slice(0, -1).every((s) => s.objects === 1)).toBe(true);
  expect(seen.at(-1)).toEqual({ idempotency: 0, actions: 0, decisions: 0, journal: 0, timers: 0, objects: 0 });
  expect((await store.client.execute("SELECT COUNT(*) AS n FROM deletions")).rows[0]!.n).toBe(0);
  expect(await rowsOf(store, "kept")).toEqual({
    idempotency: 3,
    actions: 3,
    decisions: 3,
    journal: 3,
    timers: 1,
    objects: 1,
  });
});

test("other writes go in between the batches: another object's commit is acknowledged before the deletion ends", async () => {
  const store = await fileStore();
  await fill(store, "long", LONG);
  const order: string[] = [];
  let other: Promise<void> | null = null;
  afterEachWrite(store, () => {
    // Once the deletion has made its first write, another object's arrival comes in.
    other ??= store
      .commit([arrivalBatch(makeObject({ id: "other", memoryVersion: 1 }), "dec_other")])
      .then(() => void order.push("other"));
  });

  await store.deleteObject("long").then(() => order.push("deleted"));
  await other;

  expect(order).toEqual(["other", "deleted"]);
  expect(await store.getObject("other")).not.toBeNull();
  expect(await store.getObject("long")).toBeNull();
});

test("a deletion a stopped server began is finished when the next one starts, before it serves", async () => {
  const first = await fileStore();
  await fill(first, "half", LONG);
  await fill(first, "kept", 2);
  // What a server stopped midway leaves: the mark, and part of the history deleted.
  await first.client.execute("INSERT INTO deletions (object_id) VALUES ('half')");
  await first.client.execute({
    sql: "DELETE FROM decisions WHERE object_id = 'half' AND id <= ?",
    args: [decId("half", 99)],
  });
  await first.close();

  const store = await fileStore();
  const services = await makeServices({ store });
  try {
    expect(await services.governor.getObject("half")).toBeNull();
    expect(await rowsOf(store, "half")).toEqual({
      idempotency: 0,
      actions: 0,
      decisions: 0,
      journal: 0,
      timers: 0,
      objects: 0,
    });
    expect((await store.client.execute("SELECT COUNT(*) AS n FROM deletions")).rows[0]!.n).toBe(0);
    expect((await services.governor.listObjects({ limit: 10 })).items.map((o) => o.id)).toEqual(["kept"]);
  } finally {
    await services.governor.close();
  }
});
