// A server's clock that steps back (NTP, a VM resumed) between an object's creation and an
// action for it. A driver's answer is told to be for the object (and not for one deleted before
// it under the same id) by the action being no older than the object; the action was dated by
// the clock, earlier than the creation, so the driver's confirmation was dropped and the object
// stayed `sleeping` (or `waking`) for good, its action pending.

import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { RULES_DIR, START } from "../helpers/services.ts";
import { SteppingClock } from "../helpers/stepping-clock.ts";

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function governorOn(clock: SteppingClock): Promise<Governor> {
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const governor = new Governor({
    store: new MemoryStore(),
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock })],
    random: () => 0.5,
  });
  await governor.start();
  close = () => governor.close();
  return governor;
}

test.each([
  ["sleeping", "dormant", { work: { pending: 0 } }],
  ["waking", "active", { work: { pending: 5 } }],
] as const)("a clock stepped back past the creation: the object still leaves %s for %s", async (_from, to, last) => {
  const clock = new SteppingClock(START);
  const governor = await governorOn(clock);
  const settle = () => governor.idle();
  await governor.putObject("w", {
    policy: "on-demand",
    memory: {},
    substrate: { driver: "simulated", config: { startMs: 1_000, resumeMs: 1_000, suspendMs: 1_000 } },
  });
  await clock.advance(10_000, settle);
  if (to === "dormant") {
    await governor.postFacts("w", { work: { pending: 3 } });
    await clock.advance(5_000, settle);
    expect((await governor.getObject("w"))!.state).toBe("active");
  }
  clock.stepBack(60_000);
  const reply = await governor.postFacts("w", last);
  expect(reply.object.state).toBe(_from);
  await clock.advance(5_000, settle);
  const object = (await governor.getObject("w"))!;
  expect(object.state).toBe(to);
  expect(object.substrate.observed?.status).toBe(to === "dormant" ? "suspended" : "running");
});
