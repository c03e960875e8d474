// One contract for every substrate driver (simulated, process, fly): each driver's test file
// calls runDriverContract with a harness. What holds here holds for all of them.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Observation } from "../../src/core/types.ts";
import type { Driver, DriverTarget } from "../../src/substrate/driver.ts";

export interface DriverHarness {
  driver: Driver;
  /** A valid target for one object (fresh per test). */
  target: DriverTarget;
  /** Invalid configs, each with a path its problems must name (e.g. `$.command`). */
  invalidConfigs: [config: unknown, path: string][];
  /**
   * Awaits a driver call. A driver that waits on an injected virtual clock (latency, backoff,
   * a grace period) needs the harness to move that clock until the call settles.
   */
  run<T>(call: Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

export function runDriverContract(name: string, setup: () => Promise<DriverHarness>): void {
  describe(`driver contract: ${name}`, () => {
    let h: DriverHarness;
    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const expectStatus = (o: Observation, status: Observation["status"]) => {
      expect(o.status).toBe(status);
      expect(typeof o.at).toBe("number");
    };

    test("accepts a valid config and names the field of an invalid one", () => {
      expect(h.driver.validateConfig(h.target.config)).toEqual([]);
      for (const [config, path] of h.invalidConfigs) {
        const problems = h.driver.validateConfig(config);
        expect(
          problems.map((p) => p.path),
          JSON.stringify(config),
        ).toContain(path);
      }
    });

    test("start runs the compute and observe sees it running", async () => {
      expectStatus(await h.run(h.driver.start(h.target)), "running");
      expectStatus(await h.run(h.driver.observe(h.target)), "running");
    });

    test("starting a started object is success", async () => {
      await h.run(h.driver.start(h.target));
      expectStatus(await h.run(h.driver.start(h.target)), "running");
    });

    test("suspend keeps it resident; start resumes it", async () => {
      await h.run(h.driver.start(h.target));
      if (!h.driver.canSuspend) return;
      expectStatus(await h.run(h.driver.suspend(h.target)), "suspended");
      expectStatus(await h.run(h.driver.observe(h.target)), "suspended");
      expectStatus(await h.run(h.driver.start(h.target)), "running");
    });

    test("stop stops it; stopping a stopped object is success", async () => {
      await h.run(h.driver.start(h.target));
      expectStatus(await h.run(h.driver.stop(h.target)), "stopped");
      expectStatus(await h.run(h.driver.observe(h.target)), "stopped");
      expectStatus(await h.run(h.driver.stop(h.target)), "stopped");
    });

    test("suspending compute that is not running leaves it stopped (nothing is resident)", async () => {
      if (!h.driver.canSuspend) return;
      expectStatus(await h.run(h.driver.suspend(h.target)), "stopped");
      expectStatus(await h.run(h.driver.observe(h.target)), "stopped");
      await h.run(h.driver.start(h.target));
      await h.run(h.driver.stop(h.target));
      expectStatus(await h.run(h.driver.suspend(h.target)), "stopped");
      expectStatus(await h.run(h.driver.observe(h.target)), "stopped");
    });

    test("an object never started is observed as stopped", async () => {
      expectStatus(await h.run(h.driver.observe(h.target)), "stopped");
    });

    test("a stopped object starts again", async () => {
      await h.run(h.driver.start(h.target));
      await h.run(h.driver.stop(h.target));
      expectStatus(await h.run(h.driver.start(h.target)), "running");
      await h.run(h.driver.stop(h.target));
    });
  });
}
