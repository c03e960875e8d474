// What is left of a tree whose leader exited (Leftovers) is watched on the clock until it is
// gone. Found in a review: the SIGKILL set for the end of the grace period was never called off
// when the leftovers died of their SIGTERM (the usual case), so it could land, minutes later, on
// an unrelated process group that had since taken the same number, and the object's
// observations listed leftovers that no longer existed. Here a fake tree names real processes
// (this test's own and its parent's: pids with start times), so that "the group's number now
// holds other processes" needs no pid reuse.

import { afterEach, describe, expect, test } from "vitest";
import { Leftovers } from "../../../src/substrate/process/governed.ts";
import { procfs } from "../../../src/substrate/process/proc.ts";
import type { ProcessTree } from "../../../src/substrate/process/tree.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";

/** A process group standing for leftovers: `members` is what /proc would list in it now. */
function group(members: number[]): ProcessTree & { members: () => number[]; now: number[]; sent: string[] } {
  const tree = {
    now: members,
    sent: [] as string[],
    members: () => [...tree.now],
    signal: (s: NodeJS.Signals) => void tree.sent.push(s),
    freeze: async () => true,
    thaw: async () => true,
    frozen: () => false,
    kill: () => {
      tree.sent.push("SIGKILL");
      tree.now = [];
    },
    dispose: () => {},
    report: () => ({ processes: [], rssBytes: 0 }),
    identity: () => ({ pgid: 4242 }),
  };
  return tree;
}

let clock: VirtualClock;
let leftovers: Leftovers;
afterEach(() => leftovers.close());

describe.skipIf(!procfs)("leftovers of a leader's own exit", () => {
  test("that die of their SIGTERM are done with: not listed, and no SIGKILL when the grace period ends", async () => {
    clock = new VirtualClock("2026-03-01T00:00:00Z");
    leftovers = new Leftovers(clock);
    const tree = group([process.pid]);
    leftovers.sweep(tree, 10_000, "o");
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
    clock = new VirtualClock("2026-03-01T00:00:00Z");
    leftovers = new Leftovers(clock);
    const tree = group([process.pid]);
    leftovers.sweep(tree, 1000, "o");
    await clock.advance(900);
    // Between two checks the group emptied and a new one took its number.
    tree.now = [process.ppid];
    await clock.advance(100);
    expect(tree.sent).toEqual(["SIGTERM"]);
    expect(leftovers.of("o")).toEqual([]);
  });

  test("that outlive the grace period get SIGKILL, and are done with once empty", async () => {
    clock = new VirtualClock("2026-03-01T00:00:00Z");
    leftovers = new Leftovers(clock);
    const tree = group([process.pid]);
    leftovers.sweep(tree, 1000, "o");
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
    clock = new VirtualClock("2026-03-01T00:00:00Z");
    leftovers = new Leftovers(clock);
    const tree = group([process.pid]);
    leftovers.sweep(tree, 1000, "o");
    await clock.advance(500);
    tree.now = [process.pid, process.ppid]; // a fork (standing in for it)
    await clock.advance(500);
    expect(tree.sent).toEqual(["SIGTERM", "SIGKILL"]);
  });
});
