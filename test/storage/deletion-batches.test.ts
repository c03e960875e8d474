// Deleting an object with a long history (storage/deletion.ts): the history goes a batch at a
// time, each batch its own write, so that other writes (another object's facts, the lease's
// renewal) go in between; the object's row goes last; a deletion a stopped server began is
// finished when the next one starts, before it serves.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { DeletionUnfinished } from "../../src/core/errors.ts";
import { createApp } from "../../src/http/app.ts";
import { problemOf } from "../../src/http/problem.ts";
import { DELETION_BATCH } from "../../src/storage/deletion.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { WriteError } from "../../src/storage/sql-writer.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";
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

const HISTORY = ["idempotency", "decisions", "actions", "journal"] as const;
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

/** No rows of the object in any table. */
const NONE = { idempotency: 0, actions: 0, decisions: 0, journal: 0, timers: 0, objects: 0 };

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

type Statements = { sql: string }[];
type Write = (statements: Statements, lease?: unknown) => Promise<void>;

/** Puts `around` in front of the store's writer (the real one): it gets each write, and the write. */
function aroundWrites(store: LibsqlStore, around: (write: Write, statements: Statements) => Promise<void>) {
  const writer = (store as unknown as { writer: { write: Write } }).writer;
  const write = writer.write.bind(writer);
  writer.write = (statements, lease) => around((st) => write(st, lease), statements);
}

/** Calls `each` after every write of the store's writer has committed. */
function afterEachWrite(store: LibsqlStore, each: (statements: Statements) => Promise<void> | void) {
  aroundWrites(store, async (write, statements) => {
    await write(statements);
    await each(statements);
  });
}

/** Runs `body` with a governor started over `store` (as a server's start does), then closes it. */
async function governed(store: LibsqlStore, body: (s: TestServices) => Promise<void>, start?: number) {
  const services = await makeServices({ store, ...(start === undefined ? {} : { start }) });
  try {
    await body(services);
  } finally {
    await services.governor.close();
  }
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
  // Decisions go before their actions: no decision read meanwhile shows a status its action row had lost.
  for (const s of seen) if (s.actions! < LONG) expect(s.decisions).toBeLessThan(DELETION_BATCH);
  expect(seen.at(-1)).toEqual(NONE);
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
  await governed(store, async (services) => {
    expect(await services.governor.getObject("half")).toBeNull();
    expect(await rowsOf(store, "half")).toEqual(NONE);
    expect((await store.client.execute("SELECT COUNT(*) AS n FROM deletions")).rows[0]!.n).toBe(0);
    expect((await services.governor.listObjects({ limit: 10 })).items.map((o) => o.id)).toEqual(["kept"]);
  });
});

test("a short history goes in one write, unmarked", async () => {
  const store = await fileStore();
  await fill(store, "short", 3);
  const writes: string[][] = [];
  afterEachWrite(store, (statements) => void writes.push(statements.map((s) => s.sql)));

  expect(await store.deleteObject("short")).toBe(true);

  expect(writes).toHaveLength(1);
  expect(writes[0]!.some((sql) => sql.includes("deletions (object_id)"))).toBe(false);
  expect((await rowsOf(store, "short")).objects).toBe(0);
});

/** From now on, the `nth` write of the store that deletes something fails, as on a full disk. */
function failNthDeletingWrite(store: LibsqlStore, nth: number) {
  let n = 0;
  aroundWrites(store, async (write, statements) => {
    if (statements.some((s) => s.sql.startsWith("DELETE FROM")) && ++n === nth)
      throw new WriteError("database or disk is full", "SQLITE_FULL");
    return write(statements);
  });
}

test("a deletion that fails after its first batch leaves the object gone for every request; the DELETE sent again finishes it", async () => {
  const store = await fileStore();
  await fill(store, "long", LONG);
  await fill(store, "kept", 2);
  await fill(store, "zz", 1);
  // A second after the objects were made: their usage has a window.
  await governed(
    store,
    async (services) => {
      const { governor } = services;
      const deletedEvents: string[] = [];
      governor.events.on("object:deleted", (id) => deletedEvents.push(id));
      failNthDeletingWrite(store, 2);

      const failure = await governor.deleteObject("long", "keep").then(
        () => null,
        (e: unknown) => e,
      );

      expect(failure).toBeInstanceOf(DeletionUnfinished);
      expect(problemOf(failure)).toMatchObject({ status: 503 });
      expect(problemOf(failure).detail).toContain("send the DELETE again");
      // Gone for every request: read, listed, sent facts, created anew.
      expect(await governor.getObject("long")).toBeNull();
      expect((await governor.listObjects({ limit: 10 })).items.map((o) => o.id)).toEqual(["kept", "zz"]);
      await expect(governor.postFacts("long", { n: 1 })).rejects.toMatchObject({ kind: "not-found" });
      await expect(governor.putObject("long", { policy: "on-demand" })).rejects.toMatchObject({ kind: "conflict" });
      expect(deletedEvents).toEqual(["long"]);
      // Its row is still there, its timers went with the mark (none fires for it).
      expect(await rowsOf(store, "long")).toMatchObject({ objects: 1, timers: 0 });
      expect((await governor.policyUsage({ limit: 100 })).items.map((u) => [u.policy, u.objects])).toEqual([
        ["test-policy", 2],
      ]);
      // A listing page that held only the object left out still goes on after it.
      const app = createApp({ governor, policies: services.policies, whatIf: services.whatIf, tokens: [] });
      const seen: string[] = [];
      for (let cursor = ""; ;) {
        const page = (await (await app.request(`/v1/objects?limit=1${cursor}`)).json()) as {
          items: { id: string }[];
          nextCursor?: string;
        };
        seen.push(...page.items.map((o) => o.id));
        if (!page.nextCursor) break;
        cursor = `&cursor=${page.nextCursor}`;
      }
      expect(seen).toEqual(["kept", "zz"]);

      // Sent again with a precondition that cannot hold (an If-Match with entity tags, or one
      // asking for an existing object): a 412 that deletes nothing more. (A review: it was
      // ignored, the rest deleted with a 204.)
      for (const precondition of ["never", "exists"] as const)
        await expect(governor.deleteObject("long", "keep", precondition)).rejects.toMatchObject({
          kind: "precondition",
        });
      expect(await rowsOf(store, "long")).toMatchObject({ objects: 1 });
      // Sent again: the rest goes, and the deletion is not told twice.
      expect(await governor.deleteObject("long", "keep", "absent")).toBe(true);
      expect(await rowsOf(store, "long")).toEqual(NONE);
      expect(deletedEvents).toEqual(["long"]);
      // And then it can be created anew.
      expect((await governor.putObject("long", { policy: "on-demand" })).created).toBe(true);
    },
    T0 + 1_000,
  );
});

test("a mark whose answer was lost (a remote database) is taken for a deletion begun: sent again, it finishes, even when its last write went in unanswered", async () => {
  const store = await fileStore();
  await fill(store, "long", LONG);
  await governed(store, async (services) => {
    const { governor } = services;
    // The first mark and the last write go in, their answers lost.
    let marks = 0;
    afterEachWrite(store, (statements) => {
      const mark = statements.some((s) => s.sql.startsWith("INSERT OR IGNORE INTO deletions")) && ++marks === 1;
      if (mark || statements.some((s) => s.sql.startsWith("DELETE FROM deletions")))
        throw Object.assign(new Error("fetch failed"), { code: "VIGIL_DB_UNREACHABLE" });
    });

    await expect(governor.deleteObject("long", "keep")).rejects.toBeInstanceOf(DeletionUnfinished);
    expect(await governor.getObject("long")).toBeNull();
    await expect(governor.postFacts("long", { n: 1 })).rejects.toMatchObject({ kind: "not-found" });

    // Sent again: the last write goes in, its answer lost too; the one after finds it done.
    await expect(governor.deleteObject("long", "keep")).rejects.toBeInstanceOf(DeletionUnfinished);
    expect((await rowsOf(store, "long")).objects).toBe(0);
    expect(await governor.deleteObject("long", "keep")).toBe(true);
  });
});

test("a mark the database refused changes nothing: the object stays", async () => {
  const store = await fileStore();
  await fill(store, "long", LONG);
  await governed(store, async (services) => {
    failNthDeletingWrite(store, 1);
    const failure = await services.governor.deleteObject("long", "keep").then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(WriteError);
    expect(await services.governor.getObject("long")).not.toBeNull();
    expect((await store.client.execute("SELECT COUNT(*) AS n FROM deletions")).rows[0]!.n).toBe(0);
  });
});
