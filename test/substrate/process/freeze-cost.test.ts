// What a freeze and a thaw of a process group cost. Each read of the group's members reads all of
// /proc (every process's stat), so its cost grows with the machine's process count, not the
// tree's. A freeze read it four times when the kernel stopped the tree at once, and while it
// waited for a member that took its time (or never stopped) it read it again at every turn of the
// event loop, up to ten thousand times. Now a freeze or a thaw reads it once before its signal and
// once to confirm, and waits between the two by watching the members' own /proc entries (reading
// the whole tree again only every 100 ms), for a bounded time.

import { spawn } from "node:child_process";
import { afterEach, expect, test } from "vitest";
import { groupMembers, groupStats, isStopped, procfs, settle, statsOf } from "../../../src/substrate/process/proc.ts";
import { ProcessGroupTree } from "../../../src/substrate/process/tree.ts";
import { eventually } from "../../helpers/eventually.ts";
import { countProcScans } from "../../helpers/proc-scans.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
afterEach(() => killGroups(groups));

/**
 * A shell and two children in a group of their own, none forking once started (a fork while a
 * freeze is under way costs it another read of the tree: freeze-vfork.test.ts).
 */
async function tree(): Promise<number> {
  const leader = spawn("sh", ["-c", "sleep 1000 & sleep 1000 & wait"], { detached: true, stdio: "ignore" });
  const pid = leader.pid as number;
  groups.push(pid);
  expect(await eventually(() => groupMembers(pid).length >= 3)).toBe(true);
  return pid;
}

test.skipIf(!procfs)(
  "a freeze and a thaw each read all of /proc twice: before the signal, and to confirm",
  async () => {
    const pid = await tree();
    const t = new ProcessGroupTree(pid);
    const scans = countProcScans();
    for (let i = 0; i < 3; i++) {
      scans.reset();
      expect(await t.freeze()).toBe(true);
      expect(scans.count).toBeLessThanOrEqual(2);
      expect(groupStats(pid).every(isStopped)).toBe(true);

      scans.reset();
      expect(await t.thaw()).toBe(true);
      expect(scans.count).toBeLessThanOrEqual(2);
      expect(groupStats(pid).some(isStopped)).toBe(false);
    }
  },
);

test.skipIf(!procfs)(
  "waiting for members that do not change watches them, and reads all of /proc only every 100 ms",
  async () => {
    const pid = await tree();
    const scans = countProcScans();
    // Running members waited on to stop, with no SIGSTOP sent: the wait runs out.
    const read = () => groupStats(pid);
    expect(await settle(read, (s) => s.every(isStopped), 300)).toBeNull();
    // The first read, then one every 100 ms of the 300 (a process forked meanwhile is found),
    // where reading at every turn of the event loop made thousands in that time.
    expect(scans.count).toBeGreaterThanOrEqual(2);
    expect(scans.count).toBeLessThanOrEqual(5);
  },
);

test.skipIf(!procfs)("a process the watched members did not include is found by the confirming read", async () => {
  // Two processes of their own groups, standing for a tree's members: the first is all the read
  // before the signal found, the second joined later (a fork), and stops only later still.
  const [a, b] = [spawnSleeper(), spawnSleeper()];
  expect(await eventually(() => statsOf([a, b]).length === 2)).toBe(true);
  const first = statsOf([a]);
  expect(first.map(isStopped)).toEqual([false]);
  process.kill(a, "SIGSTOP");
  // The second is signalled just after the first read of the whole tree has found it running
  // (not after 50 ms of real time, which a loaded machine could take to stop the first: then the
  // first read found both stopped, and no second read was needed).
  let reads = 0;
  const read = () => {
    const stats = statsOf([a, b]);
    if (++reads === 1) process.kill(b, "SIGSTOP");
    return stats;
  };
  const result = await settle(read, (s) => s.every(isStopped), 5_000, first);
  // Done for the first alone; the confirming read found the second still running, and the
  // wait went on until it stopped too.
  expect(result?.map((m) => [m.pid, isStopped(m)])).toEqual([
    [a, true],
    [b, true],
  ]);
  expect(reads).toBeGreaterThanOrEqual(2);
});

function spawnSleeper(): number {
  const child = spawn("sleep", ["1000"], { detached: true, stdio: "ignore" });
  const pid = child.pid as number;
  groups.push(pid);
  return pid;
}
