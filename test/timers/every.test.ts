// The periodic loop behind retention, reconciliation and lease renewal: runs never overlap, and
// stopping it waits for a run under way, so that shutdown closes the store and the governor
// after the run, not under it.

import { expect, test } from "vitest";
import { every } from "../../src/timers/every.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

/** A task whose runs end when the test says. */
function heldTask() {
  const runs: (() => void)[] = [];
  const task = () => new Promise<void>((resolve) => runs.push(resolve));
  return { task, runs };
}

test("stop resolves only once the run under way has finished", async () => {
  const clock = new VirtualClock(0);
  const { task, runs } = heldTask();
  const stop = every(clock, 1000, task, () => {});
  await clock.advance(1000);
  expect(runs).toHaveLength(1);
  let stopped = false;
  const stopping = stop().then(() => (stopped = true));
  await clock.advance(0);
  expect(stopped).toBe(false);
  runs[0]!();
  await stopping;
  expect(stopped).toBe(true);
  // Stopped: no further run.
  await clock.advance(5000);
  expect(runs).toHaveLength(1);
});

test("stop before a run, or between runs, resolves at once", async () => {
  const clock = new VirtualClock(0);
  const { task, runs } = heldTask();
  expect(await every(clock, 1000, task, () => {})()).toBeUndefined();
  const stop = every(clock, 1000, task, () => {});
  await clock.advance(1000);
  runs[0]!();
  await clock.advance(0);
  await stop();
  await clock.advance(5000);
  expect(runs).toHaveLength(1);
});

test("a run that fails is reported, and the loop goes on", async () => {
  const clock = new VirtualClock(0);
  const errors: string[] = [];
  let n = 0;
  const stop = every(
    clock,
    1000,
    () => (++n === 1 ? Promise.reject(new Error("disk full")) : Promise.resolve()),
    (e) => errors.push(e.message),
  );
  await clock.advance(1000);
  await clock.advance(1000);
  await stop();
  expect({ n, errors }).toEqual({ n: 2, errors: ["disk full"] });
});

test("a wait given as a function is asked before each run: the first may differ from the rest", async () => {
  const clock = new VirtualClock(0);
  const at: number[] = [];
  let wait = 300;
  const stop = every(
    clock,
    () => wait,
    async () => {
      at.push(clock.now());
      wait = 1000;
    },
    () => {},
  );
  await clock.advance(2500);
  await stop();
  expect(at).toEqual([300, 1300, 2300]);
});
