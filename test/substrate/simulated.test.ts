// The simulated driver under the shared driver contract, with latencies on a virtual clock.

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
