// Runs the Store contract on every implementation: the in-memory store, libsql in memory and
// libsql on a file, plus what only a file can show: data survives closing and reopening.

import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InArgs, InStatement } from "@libsql/client";
import { afterAll, describe, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { pruneIdempotency } from "../../src/storage/pruning.ts";
import { directWriter } from "../../src/storage/sql-writer.ts";
import { HOUR, T0, arrivalBatch, makeBatch, makeObject } from "../helpers/records.ts";
import type { Decision } from "../../src/core/types.ts";
import { makeServices } from "../helpers/services.ts";
import { runStoreContract } from "./store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextFile = () => join(dir, `store-${++files}.db`);

const migrated = async <S extends Store>(store: S): Promise<S> => {
  await store.migrate();
  return store;
};

runStoreContract("MemoryStore", () => migrated(new MemoryStore()));
runStoreContract("LibsqlStore :memory:", () => migrated(new LibsqlStore({ url: ":memory:" })));
runStoreContract("LibsqlStore file", () => migrated(new LibsqlStore({ url: `file:${nextFile()}` })));

describe("LibsqlStore :memory:", () => {
  // @libsql/client 0.18 keeps an in-memory database on a single connection, so it survives
  // batches and transactions; older versions opened a new (empty) connection per transaction.
  test("keeps its data across separate batches, transactions and concurrent calls", async () => {
    const store = await migrated(new LibsqlStore({ url: ":memory:" }));
    try {
      for (let i = 1; i <= 3; i++) await store.commit([arrivalBatch(makeObject({ id: `m${i}` }), `dec-${i}`)]);
      await Promise.all([
        store.getObject("m1"),
        store.listObjects({ limit: 10 }),
        store.commit([arrivalBatch(makeObject({ id: "m4" }), "dec-4")]),
      ]);
      const tx = await store.client.transaction("write");
      await tx.execute("DELETE FROM objects WHERE id = 'm2'");
      await tx.commit();
      expect((await store.listObjects({ limit: 10_000 })).map((o) => o.id)).toEqual(["m1", "m3", "m4"]);
    } finally {
      await store.close();
    }
  });
});

describe("LibsqlStore keysUnchanged", () => {
  // The hint is the object table's to give truthfully; that the store then leaves the indexed
  // columns (and their index entries) alone shows when it is given one that is not true.
  test("leaves state, policy and driver as stored, and writes every other column", async () => {
    const store = await migrated(new LibsqlStore({ url: `file:${nextFile()}` }));
    try {
      const o = makeObject({ id: "k", state: "dormant", policy: "p", memory: { n: 1 } });
      await store.commit([arrivalBatch(o, "dec-1")]);
      const lie = { ...o, state: "active" as const, policy: "q", memory: { n: 2 }, memoryVersion: 1 };
      await store.commit([{ ...arrivalBatch(lie, "dec-2"), keysUnchanged: true }]);
      expect(await store.getObject("k")).toMatchObject({
        state: "dormant",
        policy: "p",
        memory: { n: 2 },
        memoryVersion: 1,
      });
      expect((await store.listObjects({ limit: 10, state: "dormant", policy: "p" })).map((x) => x.id)).toEqual(["k"]);
    } finally {
      await store.close();
    }
  });
});

describe("LibsqlStore failedWithLeftovers", () => {
  // Reconciliation reads the failed objects with leftovers by this query every pass: its plan says
  // SQLite reads them by the partial index that holds them alone (migration 0010), not every
  // failed row by objects_state.
  test("reads the failed objects with leftovers by the index of them alone", async () => {
    const store = await migrated(new LibsqlStore({ url: ":memory:" }));
    try {
      const failed = (id: string, leftovers: boolean) =>
        makeObject({
          id,
          state: "failed",
          substrate: {
            driver: "process",
            config: {},
            observed: { status: "stopped", at: T0, ...(leftovers ? { leftovers: [{ pgid: 1 }] } : {}) },
          },
        });
      await store.commit(["a", "b", "c", "d"].map((id) => makeBatch(failed(id, id === "c"))));
      const reads: { sql: string; args: InArgs }[] = [];
      const execute = store.client.execute.bind(store.client);
      store.client.execute = ((st: { sql: string; args: InArgs }) => (reads.push(st), execute(st))) as never;
      expect((await store.listObjects({ failedWithLeftovers: true, limit: 10 })).map((o) => o.id)).toEqual(["c"]);
      expect((await store.listObjects({ failedWithLeftovers: true, after: "c", limit: 10 })).map((o) => o.id)).toEqual(
        [],
      );
      store.client.execute = execute;
      expect(reads).toHaveLength(2);
      const plans = [];
      for (const st of reads) {
        const plan = await store.client.execute({ sql: `EXPLAIN QUERY PLAN ${st.sql}`, args: st.args });
        plans.push(plan.rows.map((r) => String(r.detail)).filter((d) => d.includes("objects ")));
      }
      expect(plans).toEqual([
        ["SCAN objects USING INDEX objects_failed_leftovers"],
        ["SEARCH objects USING INDEX objects_failed_leftovers (id>?)"],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe("LibsqlStore file", () => {
  test("everything committed is there after closing and reopening the file", async () => {
    const url = `file:${nextFile()}`;
    const first = await migrated(new LibsqlStore({ url }));
    const o = makeObject({
      id: "durable",
      state: "waking",
      memory: { queue: { depth: 2 } },
      memoryVersion: 1,
      holdUntil: T0 + HOUR,
      substrate: { driver: "simulated", config: { latencyMs: 5 }, observed: { status: "stopped", at: T0 } },
      timers: [{ name: "hold", dueAt: T0 + HOUR, kind: "hold" }],
    });
    await first.commit([
      arrivalBatch(o, "dec-1", {
        journal: { seq: 1, patch: { queue: { depth: 2 } } },
        actions: [{ id: "act-1", kind: "start" }],
        timerOps: [{ name: "hold", op: "set", dueAt: T0 + HOUR, kind: "hold" }],
        idempotency: { key: "k-1", fingerprint: "fp-1", decisionId: "dec-1" },
      }),
    ]);
    const before = {
      objects: await first.listObjects({ limit: 10_000 }),
      decision: await first.getDecision("dec-1"),
      journal: await first.journal("durable", 0, 10),
      pending: await first.pendingActions(),
      timers: await first.dueTimers(Number.MAX_SAFE_INTEGER, 10),
    };
    await first.close();

    const second = await migrated(new LibsqlStore({ url }));
    try {
      expect(await second.listObjects({ limit: 10_000 })).toEqual([o]);
      expect(before.objects).toEqual([o]);
      expect(await second.getDecision("dec-1")).toEqual(before.decision);
      expect(before.decision?.id).toBe("dec-1");
      expect(await second.journal("durable", 0, 10)).toEqual([
        { seq: 1, patch: { queue: { depth: 2 } }, at: T0, kind: "patch" },
      ]);
      expect(await second.pendingActions()).toEqual(before.pending);
      expect(before.pending.map((a) => a.id)).toEqual(["act-1"]);
      expect(await second.dueTimers(Number.MAX_SAFE_INTEGER, 10)).toEqual(before.timers);
      expect(await second.nextTimer()).toEqual({ objectId: "durable", name: "hold", dueAt: T0 + HOUR, kind: "hold" });
      expect(await second.getIdempotent("durable", "k-1")).toEqual({
        key: "k-1",
        fingerprint: "fp-1",
        decisionId: "dec-1",
      });
    } finally {
      await second.close();
    }
  });

  // The client keeps a pool of connections, and opened another for a read made while one was
  // borrowed (reads side by side, as GET /v1/usage makes): that connection opened the path again.
  // With the file removed under the server, it made an empty database there (and SQLite, finding
  // it empty, deleted the -wal beside it) and the read failed, "no such table", a 500; with another
  // file moved over the path, it read that file.
  test("reads side by side stay on the file opened: removed or replaced, it is the one read", async () => {
    const path = nextFile();
    const other = nextFile();
    const otherStore = await migrated(new LibsqlStore({ url: `file:${other}` }));
    await otherStore.commit([arrivalBatch(makeObject({ id: "other" }), "dec-other")]);
    await otherStore.close();
    const store = await migrated(new LibsqlStore({ url: `file:${path}` }));
    try {
      await store.commit([arrivalBatch(makeObject({ id: "kept" }), "dec-1")]);
      const sideBySide = () =>
        Promise.all([store.listDecisions("kept", 10), store.countObjects(), store.countTimers()]);
      rmSync(path);
      const [decisions, counts] = await sideBySide();
      expect(decisions.map((d) => d.id)).toEqual(["dec-1"]);
      expect(counts.reduce((n, c) => n + c.objects, 0)).toBe(1);
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}-wal`)).toBe(true);
      renameSync(other, path);
      const [read, countsAfter] = await sideBySide();
      expect(read.map((d) => d.id)).toEqual(["dec-1"]);
      expect(countsAfter).toEqual(counts);
    } finally {
      await store.close();
    }
  });
});

describe("LibsqlStore under a governor", () => {
  test("decisions are stored compactly against their policy version, and read back whole", async () => {
    const url = `file:${nextFile()}`;
    const s = await makeServices({ store: new LibsqlStore({ url }) });
    const taken: Decision[] = [];
    s.governor.events.on("decision:recorded", (d) => taken.push(d));
    try {
      await s.governor.putObject("w", { policy: "queue-worker" });
      for (const depth of [3, 0, 2, 0]) {
        await s.governor.postFacts("w", { queue: { depth } });
        await s.advance(90_000);
      }
      await s.advance(7 * HOUR);
      expect(taken.length).toBeGreaterThanOrEqual(8);
      const stored = await s.store.listDecisions("w", 100);
      expect(stored.reverse()).toEqual(
        // The actions' status is read as it is now.
        taken.map((d) => ({ ...d, actions: d.actions.map((a) => ({ ...a, status: "confirmed" })) })),
      );
      const client = (s.store as LibsqlStore).client;
      const rows = await client.execute("SELECT body FROM decisions");
      const bodies = rows.rows.map((r) => String(r.body));
      expect(bodies.every((b) => b.startsWith("["))).toBe(true);
      const average = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;
      expect(average).toBeLessThan(200);
      const versions = await client.execute("SELECT name, version FROM policy_versions");
      expect(versions.rows.map((r) => `${r.name}@${r.version}`)).toEqual(["queue-worker@1"]);
    } finally {
      await s.close();
    }
  });
});

describe("retention's idempotency pruning", () => {
  test("a rowid read as old but given to a new key before the delete runs keeps the new key", async () => {
    const store = await migrated(new LibsqlStore({ url: ":memory:" }));
    try {
      const insert = (object: string, key: string, at: number) =>
        store.client.execute({
          sql: "INSERT INTO idempotency (object_id, key, fingerprint, decision_id, created_at) VALUES (?, ?, 'f', 'd', ?)",
          args: [object, key, at],
        });
      await insert("p", "kept", 5_000);
      await insert("o", "old", 1_000); // the newest rowid: the one SQLite gives next once it is freed
      const writer = directWriter(store.client);
      // What was queued on the writer between the read and the delete: o deleted with its keys,
      // and a keyed fact of p first used now, which takes the freed rowid.
      const interleaved = {
        ...writer,
        write: async (s: InStatement[]) => {
          await store.client.execute("DELETE FROM idempotency WHERE object_id = 'o'");
          await insert("p", "fresh", 9_000);
          return writer.write(s);
        },
      };
      await pruneIdempotency(store.client, interleaved, 2_000, 10);
      const left = await store.client.execute("SELECT key FROM idempotency ORDER BY key");
      expect(left.rows.map((r) => String(r.key))).toEqual(["fresh", "kept"]);
    } finally {
      await store.close();
    }
  });

  test("deletes keys in statements of 500, not one statement a key", async () => {
    const store = await migrated(new LibsqlStore({ url: ":memory:" }));
    try {
      await store.client.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) " +
          "INSERT INTO idempotency (object_id, key, fingerprint, decision_id, created_at) SELECT 'o' || (i % 7), 'k' || i, 'f', 'd', i FROM n",
      );
      const writes: InStatement[][] = [];
      const writer = directWriter(store.client);
      const recording = { ...writer, write: (s: InStatement[]) => (writes.push(s), writer.write(s)) };
      // Keys first used before 1,101: 1,100 of them, of which the first 1,000 go.
      expect(await pruneIdempotency(store.client, recording, 1101, 1000)).toBe(1000);
      expect(writes.map((w) => w.length)).toEqual([2]);
      const left = await store.client.execute("SELECT MIN(created_at) AS first, COUNT(*) AS n FROM idempotency");
      expect({ first: Number(left.rows[0]!.first), n: Number(left.rows[0]!.n) }).toEqual({ first: 1001, n: 200 });
    } finally {
      await store.close();
    }
  });
});
