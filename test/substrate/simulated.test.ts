// The simulated driver under the shared driver contract, with latencies on a virtual clock, and
// what a release does to a command still in flight.

import { describe, expect, test } from "vitest";
import { runDriverContract } from "./contract.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

runDriverContract("simulated", async () => {
  const clock = new VirtualClock(0);
  const driver = new SimulatedDriver({ clock });
  return {
    driver,
    target: { objectId: "sim-1", config: { startMs: 200, suspendMs: 50, stopMs: 100 } },
    invalidConfigs: [
      [{ startMs: -1 }, "$.startMs"],
      [{ failRate: 2 }, "$.failRate"],
      [{ warp: 9 }, "$.warp"],
    ],
    run: async (call) => {
      let settled = false;
      void call.then(
        () => (settled = true),
        () => (settled = true),
      );
      for (let i = 0; i < 100 && !settled; i++) await clock.advance(100);
      return call;
    },
    cleanup: () => driver.close(),
  };
});

describe("release", () => {
  test("a command still in flight when its object is released changes nothing for the id", async () => {
    const clock = new VirtualClock(0);
    const driver = new SimulatedDriver({ clock });
    const target = { objectId: "sim-1", config: { startMs: 500 } };
    const start = driver.start(target);
    await clock.advance(100);
    await driver.release(target, "keep");
    await clock.advance(400);
    expect((await start).status).toBe("running"); // the call still answers
    expect((await driver.observe(target)).status).toBe("stopped"); // but a new object of that id has nothing
    const again = driver.start(target);
    await clock.advance(500);
    expect((await again).status).toBe("running");
    expect((await driver.observe(target)).status).toBe("running");
  });
});
