// A reconciliation's observation is of the object as the pass read it: if the object moved on
// while the substrate was being asked (its crash followed, its compute started again), what the
// substrate said then is about compute that is gone, and must not move the object again.

import { afterEach, expect, test } from "vitest";
import type { DriverTarget } from "../../src/substrate/driver.ts";
import type { Observation } from "../../src/core/types.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const tick = () => new Promise<void>((r) => setImmediate(r));

test("an observation a pass made before the object followed a crash and restarted moves nothing", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "on-demand", memory: { work: { pending: 1 } } });
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.state).toBe("active");
  await s.advance(1_000);

  // The compute dies; the pass observes it stopped, and its answer is held back (a slow substrate).
  s.driver.crash("o1", "stopped", false);
  const observe = s.driver.observe.bind(s.driver);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked = false;
  s.driver.observe = async (t: DriverTarget): Promise<Observation> => {
    const seen = await observe(t);
    asked = true;
    await held;
    return seen;
  };
  const pass = s.governor.reconcile();
  for (let i = 0; i < 100 && !asked; i++) await tick();
  expect(asked).toBe(true);

  // Meanwhile the driver reports the exit: the object follows it, its rules wake it, and its
  // compute runs again.
  await s.advance(1_000);
  s.driver.crash("o1", "stopped", true);
  await s.advance(0);
  const restarted = (await s.governor.getObject("o1"))!;
  expect(restarted.state).toBe("active");
  expect((await observe({ objectId: "o1", config: {} })).status).toBe("running");

  release();
  const diverged = await pass;
  await s.advance(0);
  const after = (await s.governor.getObject("o1"))!;
  expect(after.state).toBe("active");
  expect(after.lastDecisionId).toBe(restarted.lastDecisionId);
  const substrate = (await s.governor.listDecisions("o1", 50)).filter((d) => d.trigger.kind === "substrate");
  expect(substrate).toHaveLength(1);
  expect(diverged).toBe(0);
});
