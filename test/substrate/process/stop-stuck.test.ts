// A stop whose SIGKILL reached a process of the tree that did not exit within the 10 s given to it
// (one stuck in state `D`; here one frozen in a v1 freezer cgroup, which a SIGKILL does not end
// until it is thawed, and which /proc shows in `D`): the wait ran out and the stop was confirmed,
// `stopped`, while the process was still there (found in review), against docs/substrates.md's
// "confirmed when the leader and every other process of the tree have exited". The stop now fails,
// retryable, naming it; a stop sent again sends it SIGKILL again and fails again while it is still
// there, and is confirmed once it has exited. Real processes.

import { afterEach, expect, test } from "vitest";
import { DriverError } from "../../../src/substrate/driver.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { groupStats, liveStat, readStat } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { eventually } from "../../helpers/eventually.ts";
import { Freezers, freezerV1 } from "../../helpers/freezer.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const drivers: ProcessDriver[] = [];
const freezers = new Freezers();
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  killGroups(groups);
  await freezers.thawAll();
});

test.skipIf(!freezerV1)("a stop is not confirmed while a process its SIGKILL reached has not exited", async () => {
  const clock = new VirtualClock(0);
  const d = new ProcessDriver({ clock });
  drivers.push(d);
  const t = { objectId: "stuck", config: { command: "sh", args: ["-c", "sleep 1000 & wait"], graceMs: 1000 } };
  const pid = (await d.start({ ...t, action: "act_1" })).pid as number;
  groups.push(pid);
  expect(await eventually(() => groupStats(pid).length === 2)).toBe(true);
  const child = groupStats(pid).find((m) => m.pid !== pid)!;
  const dir = await freezers.freeze("vigil-stuck", child.pid);
  expect(readStat(child.pid)?.state).toBe("D");

  const stopped = (stopping: Promise<unknown>) =>
    stopping.then(
      (o) => ({ o, childRuns: liveStat(child.pid, child.startTime) !== null }),
      (e: unknown) => ({ e, childRuns: liveStat(child.pid, child.startTime) !== null }),
    );
  // The leader dies of its SIGTERM; the child, frozen, waits for the grace period's SIGKILL.
  const first = stopped(d.stop(t));
  expect(await eventually(() => clock.waiting === 1)).toBe(true);
  await clock.advance(1000);
  const answer = await first;
  expect(answer.childRuns).toBe(true);
  expect(answer).toMatchObject({ e: expect.any(DriverError) });
  const error = (answer as { e: DriverError }).e;
  expect(error.retryable).toBe(true);
  expect(error.message).toBe(
    `cannot confirm the stop of the process tree of ${pid}: process ${child.pid} of it has not exited 10 s after its SIGKILL`,
  );

  // Sent again while it is still there: it fails again.
  const again = await stopped(d.stop(t));
  expect(again.childRuns).toBe(true);
  expect(again).toMatchObject({ e: { retryable: true, message: error.message } });

  // Thawed, it exits of the SIGKILL it has pending; the stop sent again is confirmed.
  freezers.thaw(dir);
  const last = await stopped(d.stop(t));
  expect(last).toMatchObject({ o: { status: "stopped", pid, signal: "SIGTERM" }, childRuns: false });
});

// The same review: a leader stuck so held the stop for good (it waited for the leader's exit with
// no bound, the object's turn with it). It gets the same 10 s now.
test.skipIf(!freezerV1)(
  "a stop whose leader has not exited of its SIGKILL fails, retryable, and is not held for good",
  async () => {
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = { objectId: "stuck-leader", config: { command: "sleep", args: ["1000"], graceMs: 1000 } };
    const started = await d.start({ ...t, action: "act_1" });
    const pid = started.pid as number;
    groups.push(pid);
    const dir = await freezers.freeze("vigil-stuck", pid);
    expect(readStat(pid)?.state).toBe("D");

    let outcome: unknown = null;
    void d.stop(t).then(
      (o) => (outcome = o),
      (e: unknown) => (outcome = e),
    );
    expect(await eventually(() => clock.waiting === 1)).toBe(true);
    await clock.advance(1000);
    expect(await eventually(() => outcome !== null)).toBe(true);
    expect(outcome).toBeInstanceOf(DriverError);
    expect(outcome).toMatchObject({
      retryable: true,
      message: `cannot confirm the stop of the process tree of ${pid}: process ${pid} of it has not exited 10 s after its SIGKILL`,
    });
    expect(liveStat(pid, started.startTime as number)).not.toBeNull();

    // Thawed, it exits of the signals it has pending; the stop sent again is confirmed.
    freezers.thaw(dir);
    expect(await d.stop(t)).toMatchObject({ status: "stopped", pid });
    expect(liveStat(pid, started.startTime as number)).toBeNull();
  },
);
