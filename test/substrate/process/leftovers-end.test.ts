// What is left of a tree whose leader exited (Leftovers) is watched on the clock until it is
// gone. Found in a review: the SIGKILL set for the end of the grace period was never called off
// when the leftovers died of their SIGTERM (the usual case), so it could land, minutes later, on
// an unrelated process group that had since taken the same number, and the object's
// observations listed leftovers that no longer existed. Here a fake tree names real processes
// (this test's own and its parent's: pids with start times), so that "the group's number now
// holds other processes" needs no pid reuse.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Observation } from "../../../src/core/types.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { Leftovers } from "../../../src/substrate/process/governed.ts";
import { groupMembers, procfs, statsOf } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import type { ProcessTree } from "../../../src/substrate/process/tree.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

/** A process group standing for leftovers: `members` is what /proc would list in it now. */
function group(members: number[]): ProcessTree & { members: () => number[]; now: number[]; sent: string[] } {
  const tree = {
    now: members,
    sent: [] as string[],
    members: () => [...tree.now],
    stats: () => statsOf(tree.now),
    signal: (s: NodeJS.Signals) => (tree.sent.push(s), statsOf(tree.now)),
    freeze: async () => true,
    thaw: async () => true,
    frozen: () => false,
    kill: () => {
      const reached = statsOf(tree.now);
      tree.sent.push("SIGKILL");
      tree.now = [];
      return reached;
    },
    dispose: () => {},
    report: () => ({ processes: [], rssBytes: 0 }),
    identity: () => ({ pgid: 4242 }),
    killsAll: () => false,
  };
  return tree;
}

let clock: VirtualClock;
/** The test's Leftovers, closed after it. */
let swept: Leftovers | null = null;
const groups: number[] = [];
afterEach(() => {
  swept?.close();
  swept = null;
  killGroups(groups);
});

/** Leftovers on a fresh virtual clock, sweeping a group of this test's own process. */
function sweep(graceMs: number) {
  clock = new VirtualClock("2026-03-01T00:00:00Z");
  const leftovers = new Leftovers(clock);
  swept = leftovers;
  const tree = group([process.pid]);
  leftovers.sweep(tree, graceMs, "o");
  return { tree, leftovers };
}

describe.skipIf(!procfs)("leftovers of a leader's own exit", () => {
  test("that die of their SIGTERM are done with: not listed, and no SIGKILL when the grace period ends", async () => {
    const { tree, leftovers } = sweep(10_000);
    expect(tree.sent).toEqual(["SIGTERM"]);
    expect(leftovers.of("o")).toEqual([expect.objectContaining({ pgid: 4242 })]);
    tree.now = [];
    await clock.advance(100);
    expect(leftovers.of("o")).toEqual([]);
    await leftovers.settled("o");
    await clock.advance(10_000);
    expect(tree.sent).toEqual(["SIGTERM"]);
  });

  test("whose group number other processes hold by the end of the grace period are not signalled", async () => {
    const { tree, leftovers } = sweep(1000);
    await clock.advance(900);
    // Between two checks the group emptied and a new one took its number.
    tree.now = [process.ppid];
    await clock.advance(100);
    expect(tree.sent).toEqual(["SIGTERM"]);
    expect(leftovers.of("o")).toEqual([]);
  });

  test("that outlive the grace period get SIGKILL, and are done with once empty", async () => {
    const { tree, leftovers } = sweep(1000);
    let settled = false;
    void leftovers.settled("o").then(() => (settled = true));
    await clock.advance(999);
    expect(settled).toBe(false);
    await clock.advance(1);
    await leftovers.settled("o");
    expect(tree.sent).toEqual(["SIGTERM", "SIGKILL"]);
    expect(settled).toBe(true);
  });

  test("a group whose members changed since one check but kept one seen is still the same: SIGKILL", async () => {
    const { tree } = sweep(1000);
    await clock.advance(500);
    tree.now = [process.pid, process.ppid]; // a fork (standing in for it)
    await clock.advance(500);
    expect(tree.sent).toEqual(["SIGTERM", "SIGKILL"]);
  });
});

// A review of the above: a leftover that, on its SIGTERM, starts a helper and exits leaves its
// group holding only a process never seen at a check. The helper carries the object's mark
// (VIGIL_OBJECT_ID, inherited): still the object's, and it gets the SIGKILL.
describe.skipIf(!procfs)("leftovers that hand over to a process of their own", () => {
  test("a helper started by a SIGTERM handler is still stopped at the end of the grace period", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-hop-"));
    try {
      writeFileSync(join(dir, "child.sh"), "trap 'sleep 300 & exit 0' TERM\n: > ready\nwhile :; do sleep 0.02; done\n");
      const script = "sh child.sh & while [ ! -e go ]; do sleep 0.02; done; exit 3";
      clock = new VirtualClock("2026-03-01T00:00:00Z");
      const driver = new ProcessDriver({ clock });
      const exits: Observation[] = [];
      driver.onObservation((_id, o) => exits.push(o));
      const t = { objectId: "hop", config: { command: "sh", args: ["-c", script], cwd: dir, graceMs: 2000 } };
      const leader = (await driver.start(t)).pid as number;
      groups.push(leader);
      // Once the child's trap is set (the group's size alone said nothing of that: seen failing
      // under load, as the child died of its SIGTERM before it could start the helper).
      expect(await eventually(() => existsSync(join(dir, "ready")))).toBe(true);
      writeFileSync(join(dir, "go"), "");
      expect(await eventually(() => exits.length > 0)).toBe(true);
      // The child took its SIGTERM: only the helper it started is left in the group.
      const onlyHelper = () => {
        const pids = groupMembers(leader);
        return pids.length === 1 && readFileSync(`/proc/${pids[0]}/cmdline`, "utf8") === "sleep\u0000300\u0000";
      };
      expect(await eventually(onlyHelper)).toBe(true);
      await clock.advance(100); // a check: nothing seen before is left
      expect((await driver.observe(t)).leftovers).toEqual([expect.objectContaining({ pgid: leader })]);
      await clock.advance(1900); // the grace period ends
      expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
      expect((await driver.observe(t)).leftovers).toBeUndefined();
      await driver.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
