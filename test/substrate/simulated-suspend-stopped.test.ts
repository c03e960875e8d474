// A suspend of compute that is not running leaves it stopped in the simulated driver, as in the
// process and fly drivers (nothing is resident to suspend). It reported `suspended`, and the next
// start was then timed as a resume (`resumeMs`) instead of a cold start (`startMs`).
import { expect, test } from "vitest";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

test("suspending compute that is not running leaves it stopped, and the next start is a cold start", async () => {
  const clock = new VirtualClock(0);
  const driver = new SimulatedDriver({ clock });
  const target = { objectId: "sim-1", config: { startMs: 5_000, resumeMs: 10 } };

  // Never started: nothing is resident, so there is nothing to suspend.
  const suspended = driver.suspend(target);
  await clock.advance(1);
  expect((await suspended).status).toBe("stopped");
  expect((await driver.observe(target)).status).toBe("stopped");

  // A start of compute that never ran is a cold start: startMs (5 s), not resumeMs (10 ms).
  let done = false;
  const start = driver.start(target).then((o) => ((done = true), o));
  await clock.advance(100);
  expect(done).toBe(false);
  await clock.advance(5_000);
  expect((await start).status).toBe("running");
});

test("compute stopped elsewhere (a crash nobody reported) and then suspended is still stopped", async () => {
  const clock = new VirtualClock(0);
  const driver = new SimulatedDriver({ clock });
  const target = { objectId: "sim-2", config: {} };
  const start = driver.start(target);
  await clock.advance(1);
  await start;
  driver.crash("sim-2", "stopped", false);
  const suspended = driver.suspend(target);
  await clock.advance(1);
  expect((await suspended).status).toBe("stopped");
});
