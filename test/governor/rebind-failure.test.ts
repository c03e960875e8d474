// A rebind (PUT with another binding) detaches the action in flight to the old binding, drops
// those queued for it and records them as superseded in its commit. When the rebind fails
// before that (the old compute would not stop, or the commit failed), nothing was recorded:
// the actions are the object's again, so that none is left pending for good with nothing to
// send it, and the object does not wait for good for an answer that moves nothing.

import { afterEach, describe, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import type { DriverTarget, Release } from "../../src/substrate/driver.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RefusingStore } from "../helpers/refusing-store.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";
import { FRAGILE_POLICY } from "../helpers/fragile-policy.ts";

/** A simulated driver whose release (the rebind's stop of the old compute) fails while `refuse`. */
class StubbornDriver extends SimulatedDriver {
  refuse = false;
  override async release(t: DriverTarget, mode: Release): Promise<void> {
    if (this.refuse) throw new Error("API unreachable");
    return super.release(t, mode);
  }
}

let s: TestServices | null = null;
let governor: Governor | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
  await governor?.close();
  governor = null;
});

const slow = { driver: "simulated", config: { startMs: 60_000, stopMs: 60_000 } };
const other = { policy: "on-demand", substrate: { driver: "simulated", config: { startMs: 1 } } };

/** An object with a start in flight (a minute long) and its dormancy (a suspend) queued behind it. */
async function queuedBehindStart(store: RefusingStore) {
  s = await makeServices({ store });
  await s.governor.putObject("a", { policy: "on-demand", substrate: slow });
  await s.governor.postFacts("a", { work: { pending: 1 } }); // start, in flight
  await s.governor.postFacts("a", { work: { pending: 0 } }); // suspend, queued behind it
  const pending = await store.pendingActions();
  expect(pending.map((a) => a.kind)).toEqual(["start", "suspend"]);
  return { services: s, queued: pending[1]!.id };
}

describe("a rebind whose commit fails", () => {
  test("leaves the queued action queued: it is sent, and no longer pending", async () => {
    const store = new RefusingStore();
    const { services, queued } = await queuedBehindStart(store);
    store.refuse = () => true;
    await expect(services.governor.putObject("a", other)).rejects.toThrow("disk full");
    store.refuse = null;
    await services.advance(10 * 60_000);
    expect((await store.pendingActions()).map((a) => a.id)).not.toContain(queued);
  });

  // Failing only the evaluation's commit: the rebind once committed its binding and superseded
  // actions before its evaluation, so a retry found nothing to change and never evaluated.
  test.each([
    ["every commit fails", () => true],
    ["only the evaluation's commit fails", (b: CommitBatch) => b.decision !== null],
  ] as const)(
    "records nothing (%s); tried again, the object is rebound and evaluated, the queued action superseded",
    async (_name, refuse) => {
      const store = new RefusingStore();
      const { services, queued } = await queuedBehindStart(store);
      store.refuse = refuse;
      await expect(services.governor.putObject("a", other)).rejects.toThrow("disk full");
      store.refuse = null;
      expect((await store.getObject("a"))!.substrate.config).toEqual(slow.config);
      expect((await store.pendingActions()).map((a) => a.id)).toContain(queued);
      await services.governor.putObject("a", other);
      const triggers = (await services.governor.listDecisions("a", 10)).map((d) => d.trigger);
      expect(triggers[0]).toEqual({ kind: "manual", name: "rebound" });
      expect((await store.pendingActions()).map((a) => a.id)).not.toContain(queued);
    },
  );
});

describe("a rebind whose stop of the old compute fails", () => {
  test("leaves the queued action queued: it is sent, and the object settles", async () => {
    const store = new MemoryStore();
    const clock = new VirtualClock(START);
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const driver = new StubbornDriver({ clock, random: () => 0.5 });
    const g = (governor = new Governor({ store, policies, clock, drivers: [driver], random: () => 0.5 }));
    await g.start();
    await g.putObject("a", { policy: "on-demand", substrate: slow });
    await g.postFacts("a", { work: { pending: 1 } });
    await g.postFacts("a", { work: { pending: 0 } });
    expect((await store.pendingActions()).map((a) => a.kind)).toEqual(["start", "suspend"]);
    driver.refuse = true;
    await expect(g.putObject("a", other)).rejects.toThrow(/could not stop/);
    driver.refuse = false;
    await clock.advance(10 * 60_000, () => g.idle());
    expect(await store.pendingActions()).toEqual([]);
    expect((await g.getObject("a"))!.state).toBe("dormant");
  });
});

describe("a rebind that fails while a start is in flight", () => {
  test("the start is the object's again: its answer moves the object on, which does not stay waking", async () => {
    const store = new RefusingStore();
    s = await makeServices({ store });
    await s.governor.putObject("a", { policy: "on-demand", substrate: slow });
    await s.governor.postFacts("a", { work: { pending: 1 } }); // waking, the start a minute long
    store.refuse = () => true;
    await expect(s.governor.putObject("a", other)).rejects.toThrow("disk full");
    store.refuse = null;
    await s.advance(60 * 60_000);
    expect((await s.governor.getObject("a"))!.state).not.toBe("waking");
    const [start] = (await s.governor.listDecisions("a", 10)).reverse().slice(1, 2);
    expect(start!.actions.map((a) => `${a.kind}:${a.status}`)).not.toContain("start:superseded");
  });
});

describe("a rebind the new policy refuses", () => {
  // A review: the PUT answered 422 ("an error changes nothing") after the old compute had been
  // stopped; the record still said active, and reconciliation started it again later.
  test("is a 422 that leaves the compute running and the object as it was", async () => {
    s = await makeServices();
    expect(s.policies.loadText(JSON.stringify(FRAGILE_POLICY), "inline/fragile.json").ok).toBe(true);
    await s.governor.putObject("a", { policy: "on-demand", memory: { x: 5 } });
    await s.governor.postFacts("a", { work: { pending: 1 } });
    await s.advance(1_000);
    const before = (await s.governor.getObject("a"))!;
    expect(before.state).toBe("active");
    const target = { objectId: "a", config: before.substrate.config };
    expect((await s.driver.observe(target)).status).toBe("running");

    const rebind = { policy: "fragile", substrate: { driver: "simulated", config: { startMs: 1 } } };
    await expect(s.governor.putObject("a", rebind)).rejects.toMatchObject({ kind: "invalid" });
    expect((await s.driver.observe(target)).status).toBe("running");
    expect(await s.governor.getObject("a")).toEqual(before);
    await s.advance(60_000);
    expect((await s.governor.getObject("a"))!.state).toBe("active");
  });
});
