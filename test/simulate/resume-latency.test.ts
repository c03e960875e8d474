// The simulated driver's resumeMs: a start of suspended compute takes the resume latency, a
// start from stopped (or the first start) the start latency; without resumeMs both take startMs.

import { describe, expect, test } from "vitest";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

/** How long (virtual ms) the call takes to settle, moving the clock a millisecond at a time. */
async function took(clock: VirtualClock, call: Promise<unknown>): Promise<number> {
  const from = clock.now();
  let done = false;
  void call.then(() => (done = true));
  await clock.advance(0);
  while (!done) await clock.advance(1);
  return clock.now() - from;
}

describe("simulated driver: resumeMs", () => {
  test("a start from suspended takes resumeMs; from stopped, startMs", async () => {
    const clock = new VirtualClock(0);
    const driver = new SimulatedDriver({ clock });
    const target = { objectId: "o", config: { startMs: 2000, resumeMs: 300, suspendMs: 10, stopMs: 20 } };
    expect(driver.validateConfig(target.config)).toEqual([]);
    expect(await took(clock, driver.start(target))).toBe(2000);
    expect(await took(clock, driver.suspend(target))).toBe(10);
    expect(await took(clock, driver.start(target))).toBe(300);
    expect(await took(clock, driver.stop(target))).toBe(20);
    expect(await took(clock, driver.start(target))).toBe(2000);
  });

  test("without resumeMs a resume takes startMs", async () => {
    const clock = new VirtualClock(0);
    const driver = new SimulatedDriver({ clock });
    const target = { objectId: "o", config: { startMs: 700 } };
    await took(clock, driver.start(target));
    await took(clock, driver.suspend(target));
    expect(await took(clock, driver.start(target))).toBe(700);
  });

  test("resumeMs is held to the same limits as the other latencies", () => {
    const driver = new SimulatedDriver({ clock: new VirtualClock(0) });
    expect(driver.validateConfig({ resumeMs: -1 }).map((p) => p.path)).toEqual(["$.resumeMs"]);
    expect(driver.validateConfig({ resumeMs: 600_001 }).map((p) => p.path)).toEqual(["$.resumeMs"]);
  });
});
