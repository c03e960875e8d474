// Activation: a bounded hot set. Objects that are not dormant stay in memory, dormant ones
// only while recently used; a cold object is read when something arrives for it, and facts,
// timers, listing and reads work the same for it. Start-up reads no object rows.

import { afterEach, describe, expect, test } from "vitest";
import type { CommitBatch, ObjectQuery, Store } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

/** A real in-memory store that counts the object rows it hands out, and the queries. */
class CountingStore extends MemoryStore {
  reads = 0;
  queries = 0;
  override async getObject(id: string) {
    const o = await super.getObject(id);
    this.queries++;
    if (o) this.reads++;
    return o;
  }
  override async getObjects(ids: readonly string[]) {
    const os = await super.getObjects(ids);
    this.queries++;
    this.reads += os.length;
    return os;
  }
  queriesListed: ObjectQuery[] = [];
  /** Per committed batch: its object's id and whether it said its indexed columns are unchanged. */
  hints: [string, boolean][] = [];
  override async commit(batches: CommitBatch[]) {
    await super.commit(batches);
    for (const b of batches) this.hints.push([b.object.id, b.keysUnchanged === true]);
  }
  override async listObjects(q: ObjectQuery) {
    this.queriesListed.push(q);
    const rows = await super.listObjects(q);
    this.reads += rows.length;
    return rows;
  }
}

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
});

function governor(store: Store, hotObjects: number, clock = new VirtualClock(START)) {
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const driver = new SimulatedDriver({ clock });
  const g = new Governor({ store, policies, clock, drivers: [driver], hotObjects, random: () => 0.5 });
  governors.push(g);
  return { g, clock, advance: (ms: number) => clock.advance(ms, () => g.idle()) };
}

describe("the hot set", () => {
  test("holds the awake objects and at most N dormant ones; a cold object works as a hot one", async () => {
    const store = new CountingStore();
    const { g, advance } = governor(store, 2);
    await g.start();
    for (const id of ["a", "b", "c", "d"]) await g.putObject(id, { policy: "queue-worker" });
    await g.putObject("busy", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await advance(0);
    expect(g.hotObjects).toEqual({ awake: 1, dormant: 2 });

    // "a" is cold now: facts for it read it once, then it is hot (and awake).
    const reads = store.reads;
    const woke = await g.postFacts("a", { queue: { depth: 1 } });
    expect(woke.decision).toMatchObject({ fromState: "dormant", toState: "waking" });
    expect(store.reads).toBe(reads + 1);
    await advance(0);
    // "a" left the dormant set (it is awake); taking it had pushed "c" out.
    expect(g.hotObjects).toEqual({ awake: 2, dormant: 1 });
    expect((await g.getObject("a"))!.state).toBe("active");

    // Reads, lists and decisions of cold objects come from the store.
    expect((await g.getObject("b"))!.policy).toBe("queue-worker");
    const page = await g.listObjects({ limit: 10 });
    expect(page.items.map((o) => `${o.id}:${o.state}`)).toEqual([
      "a:active",
      "b:dormant",
      "busy:active",
      "c:dormant",
      "d:dormant",
    ]);
    expect(await g.listDecisions("b", 10)).toHaveLength(1);
  });

  test("a timer of a cold object fires: it is read, evaluated and committed", async () => {
    const store = new MemoryStore();
    const { g, advance } = governor(store, 0);
    await g.start();
    await g.putObject("w", { policy: "queue-worker" });
    await g.postFacts("w", { queue: { depth: 1 } });
    await advance(0);
    await g.postFacts("w", { queue: { depth: 0 } });
    // dwell.minActive is 2 minutes; then dormancy sets the object's own wake timer (6 h).
    await advance(2 * 60_000);
    const asleep = (await g.getObject("w"))!;
    expect(asleep.state).toBe("dormant");
    expect(asleep.timers.map((t) => t.name)).toEqual(["wake"]);
    // Dormant with a capacity of 0: not in memory at all.
    expect(g.hotObjects).toEqual({ awake: 0, dormant: 0 });
    await advance(6 * 3_600_000);
    const [last] = await g.listDecisions("w", 1);
    expect(last).toMatchObject({ trigger: { kind: "timer", name: "wake" }, toState: "waking" });
    expect((await g.getObject("w"))!.state).toBe("active");
  });

  test("a burst of timers for cold objects reads them together, a few queries for all of them", async () => {
    const store = new CountingStore();
    const { g, advance } = governor(store, 0);
    await g.start();
    // 1,200 dormant objects of a policy with a schedule every minute, none of them in memory.
    const n = 1200;
    const ids = Array.from({ length: n }, (_, i) => `c${String(i).padStart(4, "0")}`);
    for (const id of ids) await g.putObject(id, { policy: "continuous-monitor" });
    await advance(0);
    expect(g.hotObjects).toEqual({ awake: 0, dormant: 0 });
    const due = await store.dueTimers(START + 60_000, 10 * n);
    expect(due.filter((t) => t.objectId.startsWith("c"))).toHaveLength(n);
    const [reads, queries] = [store.reads, store.queries];
    await advance(60_000);
    // Every object was read and evaluated, in batches of at most 500 ids: a few queries.
    expect(store.reads - reads).toBeGreaterThanOrEqual(n);
    expect(store.queries - queries).toBeLessThanOrEqual(n / 100);
    // Each fired: its schedule's timer is set again, for the next minute.
    const next = await store.dueTimers(START + 180_000, 10 * n);
    expect(next.filter((t) => t.objectId.startsWith("c") && t.dueAt > due[0]!.dueAt)).toHaveLength(n);
  });
});

describe("commits", () => {
  test("tell the store when state, policy and driver are those already stored", async () => {
    const store = new CountingStore();
    const { g } = governor(store, 10);
    await g.start();
    await g.putObject("a", { policy: "queue-worker" }); // new
    await g.postFacts("a", { queue: { depth: 0 } }); // stays dormant
    await g.postFacts("a", { queue: { depth: 1 } }); // dormant -> waking
    await g.putObject("a", { policy: "on-demand" }); // another policy
    expect(store.hints.filter(([id]) => id === "a").map(([, same]) => same)).toEqual([false, true, false, false]);
  });
});

describe("the census without a hot set", () => {
  test("follows a dormant object out of memory to another policy, and out of its count when deleted", async () => {
    const { g } = governor(new MemoryStore(), 0);
    await g.start();
    const rows = () => g.censusRows().map((r) => [r.policy, r.state, r.objects]);
    await g.putObject("o1", { policy: "on-demand" });
    await g.putObject("o2", { policy: "on-demand" });
    expect(rows()).toEqual([["on-demand", "dormant", 2]]);
    await g.putObject("o1", { policy: "nightly-report" });
    expect(rows()).toEqual(
      expect.arrayContaining([
        ["on-demand", "dormant", 1],
        ["nightly-report", "dormant", 1],
      ]),
    );
    await g.deleteObject("o2", "keep");
    expect(rows().filter(([, , n]) => n !== 0)).toEqual([["nightly-report", "dormant", 1]]);
  });
});

describe("listing", () => {
  test("with a state and a policy, reads by the one fewer objects have (by the census)", async () => {
    const store = new CountingStore();
    const { g } = governor(store, 10);
    await g.start();
    for (const id of ["a", "b", "c"]) await g.putObject(id, { policy: "queue-worker" });
    await g.putObject("d", { policy: "on-demand" });
    const by = async (state: "dormant" | "failed", policy: string) => {
      await g.listObjects({ state, policy, limit: 10 });
      return store.queriesListed.at(-1)!.by;
    };
    // 4 dormant objects, 1 of on-demand: by policy. None failed, 3 of queue-worker: by state.
    expect(await by("dormant", "on-demand")).toBe("policy");
    expect(await by("failed", "queue-worker")).toBe("state");
    expect((await g.listObjects({ state: "dormant", limit: 10 })).items).toHaveLength(4);
    expect(store.queriesListed.at(-1)!.by).toBeUndefined();
  });
});

describe("start-up", () => {
  test("reads no object rows when nothing needs them", async () => {
    const store = new CountingStore();
    const first = governor(store, 10);
    await first.g.start();
    for (let i = 0; i < 20; i++) await first.g.putObject(`o${i}`, { policy: "queue-worker" });
    await first.g.close();
    governors.splice(0);

    store.reads = 0;
    const second = governor(store, 10, first.clock);
    await second.g.start();
    expect(store.reads).toBe(0);
    expect(await second.g.notReady()).toBeNull();
    // The objects are all there, read as they are needed.
    expect((await second.g.listObjects({ limit: 100 })).items).toHaveLength(20);
  });

  test("re-arms the schedules of a policy only when they changed", async () => {
    const store = new CountingStore();
    const first = governor(store, 10);
    await first.g.start();
    await first.g.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await first.g.close();
    governors.splice(0);
    await store.setArmedSchedules("continuous-monitor", "[]");

    store.reads = 0;
    const second = governor(store, 10, first.clock);
    await second.g.start();
    // The stored schedules differ from the policy's: its objects were read and found armed.
    expect(store.reads).toBeGreaterThan(0);
    expect(await store.armedSchedules("continuous-monitor")).not.toBe("[]");
    await second.g.close();
    governors.splice(0);

    store.reads = 0;
    await governor(store, 10, first.clock).g.start();
    expect(store.reads).toBe(0);
  });
});
