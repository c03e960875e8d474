// A reload that changes a schedule re-arms every object of the policy, one whose tick is being
// evaluated and committed at that moment too: arming skipped it (its hot copy still showed the
// overdue tick, which arming leaves to fire), and the evaluation then set the old cron's next
// tick, for good.

import { afterEach, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { flush, VirtualClock } from "../../src/timers/clock.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** A real in-memory store that runs `during` once, inside the commit of a tick's next tick. */
class HookStore extends MemoryStore {
  during: (() => Promise<void>) | null = null;
  override async commit(batches: CommitBatch[]): Promise<void> {
    const hook = this.during;
    if (hook && batches.some((b) => b.timerOps.some((op) => op.name === "tick" && op.op === "set"))) {
      this.during = null;
      await hook();
    }
    return super.commit(batches);
  }
}

const policy = (version: string, cron: string) => scheduledPolicy({ name: "p", version, cron });

test("a reload changing a cron while that tick is being committed re-arms the object", async () => {
  const store = new HookStore();
  const services = (s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z"), store }));
  expect(services.policies.loadText(JSON.stringify(policy("1", "0 * * * *")), "inline/p.json").ok).toBe(true);
  await services.governor.putObject("o", { policy: "p" });
  store.during = async () => {
    expect(services.policies.loadText(JSON.stringify(policy("2", "30 * * * *")), "inline/p.json").ok).toBe(true);
    void services.governor.armSchedules("p");
    await flush();
  };
  await services.advance(60 * 60_000 + 1000); // the 01:00 tick fires; the reload comes during its commit
  expect(store.during).toBeNull();
  await services.governor.armSchedules("p");
  const tick = (await services.governor.getObject("o"))!.timers.find((t) => t.name === "tick")!;
  expect(new Date(tick.dueAt).toISOString()).toBe("2026-01-01T01:30:00.000Z");
});

test("with no dormant object kept in memory, a reload during two objects' tick commits re-arms both", async () => {
  // The arming reads a page of rows, then waits for the first object's mailbox: meanwhile the
  // second one's tick commits, and its row in the page (cold: no hot copy) is out of date.
  const store = new HookStore();
  const clock = new VirtualClock(Date.parse("2026-01-01T00:00:00Z"));
  const policies = new PolicyRegistry(() => clock.now());
  const drivers = [new SimulatedDriver({ clock })];
  const g = new Governor({ store, policies, clock, drivers, random: () => 0.5, hotObjects: 0 });
  await g.start();
  try {
    expect(policies.loadText(JSON.stringify(policy("1", "0 * * * *")), "inline/p.json").ok).toBe(true);
    await g.putObject("a", { policy: "p" });
    await g.putObject("b", { policy: "p" });
    store.during = async () => {
      expect(policies.loadText(JSON.stringify(policy("2", "30 * * * *")), "inline/p.json").ok).toBe(true);
      void g.armSchedules("p");
      await flush();
    };
    await clock.advance(60 * 60_000 + 1000, () => g.idle());
    expect(store.during).toBeNull();
    await g.armSchedules("p");
    const due = async (id: string) =>
      new Date((await g.getObject(id))!.timers.find((t) => t.name === "tick")!.dueAt).toISOString();
    expect({ a: await due("a"), b: await due("b") }).toEqual({
      a: "2026-01-01T01:30:00.000Z",
      b: "2026-01-01T01:30:00.000Z",
    });
  } finally {
    await g.close();
  }
});
