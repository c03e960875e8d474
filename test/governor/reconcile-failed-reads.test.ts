// Reconciliation observes a failed object only when its stored observation lists `leftovers`
// (leftovers-observed.test.ts). Found in a review: the pass listed every failed object, a page at
// a time, only to pass over those without leftovers, so a fleet with many failed objects was read
// whole every pass. It now reads the failed objects with leftovers alone.

import { afterEach, expect, test } from "vitest";
import type { ObjectQuery } from "../../src/core/store.ts";
import type { ObjectRecord } from "../../src/core/types.ts";
import type { DriverTarget } from "../../src/substrate/driver.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { makeBatch, makeObject } from "../helpers/records.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const failed = (id: string, leftovers?: { pgid: number }[]): ObjectRecord =>
  makeObject({
    id,
    policy: "continuous-monitor",
    state: "failed",
    stateSince: START,
    createdAt: START,
    updatedAt: START,
    lastFactAt: START,
    substrate: {
      driver: "simulated",
      config: {},
      observed: { status: "stopped", at: START, reason: "exited", ...(leftovers ? { leftovers } : {}) },
    },
  });

for (const [name, open] of [
  ["MemoryStore", () => new MemoryStore()],
  ["LibsqlStore", () => new LibsqlStore({ url: ":memory:" })],
] as const)
  test(`${name}: a pass reads no failed object without leftovers, and still clears the leftovers of one that has them`, async () => {
    const store = open();
    await store.migrate();
    // Many failed objects, one of them (in the middle of the id order) listing leftovers.
    const ids = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, "0")}`);
    await store.commit(ids.map((id) => makeBatch(failed(id, id === "f17" ? [{ pgid: 4242 }] : undefined))));

    // Every row the store hands out to a listing, and every object the driver is asked about.
    const listed: string[] = [];
    const list = store.listObjects.bind(store);
    store.listObjects = async (q: ObjectQuery) => {
      const rows = await list(q);
      listed.push(...rows.map((r) => r.id));
      return rows;
    };
    s = await makeServices({ store });
    const observed: string[] = [];
    const observe = s.driver.observe.bind(s.driver);
    s.driver.observe = (t: DriverTarget) => (observed.push(t.objectId), observe(t));

    listed.length = 0;
    expect(await s.governor.reconcile()).toBe(0);
    expect(listed).toEqual(["f17"]);
    expect(observed).toEqual(["f17"]);
    // The simulated substrate lists no leftovers: they are gone from what GET shows, the rest stays.
    const seen = (await s.governor.getObject("f17"))!;
    expect(seen.state).toBe("failed");
    expect(seen.substrate.observed).toEqual({ status: "stopped", at: START, reason: "exited" });

    // Nothing listed since: the next pass reads no object at all.
    listed.length = 0;
    expect(await s.governor.reconcile()).toBe(0);
    expect(listed).toEqual([]);
    expect(observed).toEqual(["f17"]);
  });
