// A listing reads rows from the store and shows the hot copy of each object it has in memory.
// Either can be the newer: a commit is durable (a read sees it) a moment before its hot copy is
// replaced. Whichever is shown, every item of a filtered listing matches its filter.

import { afterEach, describe, expect, test } from "vitest";
import type { CommitBatch, ObjectQuery } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

/** A real in-memory store whose commits are durable at once but, while `hold`, answered later. */
class LateAnswerStore extends MemoryStore {
  hold = false;
  durable = 0;
  private waiting: (() => void)[] = [];
  override async commit(batches: CommitBatch[]) {
    await super.commit(batches);
    this.durable++;
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  /** While set, a listing's rows, once read, wait for it. */
  listGate: Promise<void> | null = null;
  override async listObjects(q: ObjectQuery) {
    const rows = await super.listObjects(q);
    if (this.listGate) await this.listGate;
    return rows;
  }
  release() {
    this.hold = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
  /** Runs `change` until its commit is durable, unanswered; `done` is its completion. */
  async durableUnanswered<T>(change: () => Promise<T>): Promise<{ done: Promise<T> }> {
    this.hold = true;
    const before = this.durable;
    const done = change();
    while (this.durable === before) await new Promise((r) => setImmediate(r));
    return { done };
  }
}

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
});

async function world() {
  const store = new LateAnswerStore();
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const driver = new SimulatedDriver({ clock, random: () => 0.5 });
  const g = new Governor({ store, policies, clock, drivers: [driver], hotObjects: 10, random: () => 0.5 });
  governors.push(g);
  await g.start();
  await g.putObject("w", { policy: "queue-worker" });
  await clock.advance(60_000, () => g.idle()); // a minute of life to sum usage over
  return { store, g };
}

describe("a filtered listing while a commit is durable but not yet answered", () => {
  test("by state: the object is listed in the state the filter asked for", async () => {
    const { store, g } = await world();
    const { done: facts } = await store.durableUnanswered(() => g.postFacts("w", { queue: { depth: 1 } })); // dormant → waking
    const waking = await g.listObjects({ state: "waking", limit: 10 });
    const dormant = await g.listObjects({ state: "dormant", limit: 10 });
    store.release();
    await facts;
    expect(waking.items.map((o) => `${o.id}:${o.state}`)).toEqual(["w:waking"]);
    expect(dormant.items).toEqual([]);
  });

  test("a row read before a commit shows the newer hot copy; an empty filter is none, as the stores read it", async () => {
    const { store, g } = await world();
    let open!: () => void;
    store.listGate = new Promise<void>((resolve) => (open = resolve));
    const unfiltered = g.listObjects({ limit: 10 });
    const emptyPolicy = g.listObjects({ policy: "", limit: 10 });
    await new Promise((r) => setImmediate(r));
    await g.postFacts("w", { queue: { depth: 1 } }); // committed and answered: the hot copy is waking
    store.listGate = null;
    open();
    for (const page of [await unfiltered, await emptyPolicy])
      expect(page.items.map((o) => `${o.id}:${o.state}`)).toEqual(["w:waking"]);
  });

  test("usage of one policy counts an object moved to it under that policy", async () => {
    const { store, g } = await world();
    const { done: moved } = await store.durableUnanswered(() => g.putObject("w", { policy: "on-demand" }));
    const usage = await g.policyUsage({ policy: "on-demand", limit: 10 });
    store.release();
    await moved;
    expect(usage.items.map((u) => `${u.policy}:${u.objects}`)).toEqual(["on-demand:1"]);
  });
});
