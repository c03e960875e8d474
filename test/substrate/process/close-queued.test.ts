// ProcessDriver.close() rejects calls still waiting (retryable); processes keep running for the
// next server to adopt. A start queued behind a stop was not rejected: it ran after close() and
// spawned a new tree nobody governed (no listener, no stored observation). A stop waiting for
// the rest of a tree to exit is rejected too, not left watching it (nor reporting it stopped).

import { afterEach, expect, test } from "vitest";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { groupMembers, isGone, procfs, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

const pids: number[] = [];
afterEach(() => {
  killGroups(pids);
});

test("a start still waiting when the driver closes is rejected, and spawns nothing", async () => {
  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const t = {
    objectId: "o1",
    config: { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"], graceMs: 60_000 },
  };
  // A tree from before a restart, adopted: its exit is seen by the watch on the clock.
  const a = new ProcessDriver({ clock });
  const before = await a.start(t);
  const pid = before.pid as number;
  pids.push(pid);
  await a.close();
  const d = new ProcessDriver({ clock, watchMs: 1000 });
  expect(await d.adopt(t, before)).toMatchObject({ status: "running", pid });

  const stopping = d.stop(t).catch((e: unknown) => e);
  expect(await eventually(() => readStat(pid) === null || isGone(readStat(pid)!))).toBe(true);
  // The leader is gone; the watch has not yet seen it. A start waits behind the stop.
  const starting = d.start(t).then(
    (o) => o,
    (e: unknown) => e,
  );
  await d.close();
  await stopping;
  const result = await starting;
  if (result && typeof result === "object" && "pid" in result && typeof result.pid === "number") pids.push(result.pid);
  expect(result).toBeInstanceOf(Error);
  expect((result as Error & { retryable?: boolean }).retryable).toBe(true);
});

test.skipIf(!procfs)("a stop waiting for a child that ignores SIGTERM is rejected when the driver closes", async () => {
  const clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
  const d = new ProcessDriver({ clock });
  const child = "trap '' TERM; while :; do sleep 0.05; done";
  const t = { objectId: "o2", config: { command: "sh", args: ["-c", `sh -c "${child}" & wait`], graceMs: 60_000 } };
  const pid = (await d.start(t)).pid as number;
  pids.push(pid);
  expect(await eventually(() => groupMembers(pid).length >= 3)).toBe(true);

  let settled = false;
  const stopping = d.stop(t).then(
    (o) => o,
    (e: unknown) => e,
  );
  void stopping.finally(() => (settled = true));
  // The leader is gone, and the driver has seen its exit (signal SIGTERM); the child runs on,
  // and the virtual clock never reaches the grace period. The leader's exit is the kernel's, in
  // real time: waited for until Node has reaped it (its exit event then come), not for a count
  // of turns of the event loop.
  expect(await eventually(() => readStat(pid) === null)).toBe(true);
  expect((await d.observe(t)).signal).toBe("SIGTERM");
  expect(settled).toBe(false);
  await d.close();
  const result = await stopping;
  expect(result).toBeInstanceOf(Error);
  expect((result as Error & { retryable?: boolean }).retryable).toBe(true);
  expect(groupMembers(pid).length).toBeGreaterThan(0);
});
