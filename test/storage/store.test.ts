// Runs the Store contract on every implementation: the in-memory store, libsql in memory and
// libsql on a file, plus what only a file can show: data survives closing and reopening.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { HOUR, T0, arrivalBatch, makeObject } from "../helpers/records.ts";
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
      expect((await store.loadObjects()).map((o) => o.id)).toEqual(["m1", "m3", "m4"]);
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
        idempotency: { key: "k-1", response: { decisionId: "dec-1" } },
      }),
    ]);
    const before = {
      objects: await first.loadObjects(),
      decision: await first.getDecision("dec-1"),
      journal: await first.journal("durable", 0, 10),
      pending: await first.pendingActions(),
      timers: await first.dueTimers(Number.MAX_SAFE_INTEGER, 10),
    };
    await first.close();

    const second = await migrated(new LibsqlStore({ url }));
    try {
      expect(await second.loadObjects()).toEqual([o]);
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
      expect(await second.getIdempotent("durable", "k-1")).toEqual({ decisionId: "dec-1" });
    } finally {
      await second.close();
    }
  });
});
