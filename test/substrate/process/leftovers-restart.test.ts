// What is left of a tree whose leader exited on its own gets SIGTERM, and SIGKILL after the
// grace period on the server's clock. A server that crashed within that period took the SIGKILL
// with it, and the next one never looked at the group: a child ignoring SIGTERM ran on for good.
// Now the object's observations list those leftovers while they wait, and a restarted server's
// adoption stops what is still there. (Two drivers with clocks of their own: the first one's
// SIGKILL, on a clock nobody moves, stands for the crash.)

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Observation } from "../../../src/core/types.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { groupMembers, isGone, readStat, until } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

const START = Date.parse("2026-03-01T00:00:00Z");
let dir: string;
const groups: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-leftovers-"));
});
afterEach(() => {
  killGroups(groups);
  rmSync(dir, { recursive: true, force: true });
});

/** A leader that forks a child ignoring SIGTERM, then exits 3 once `go` appears. */
function target(objectId = "lo-1"): DriverTarget {
  const script = "(trap '' TERM; exec sleep 300) & while [ ! -e go ]; do sleep 0.02; done; exit 3";
  return { objectId, config: { command: "sh", args: ["-c", script], cwd: dir, graceMs: 2000 } };
}

const gone = (pid: number) => {
  const s = readStat(pid);
  return s === null || isGone(s);
};

/** The first server: starts the tree and lets its leader exit; returns the exit's observation. */
async function leaderExits(): Promise<{ a: ProcessDriver; leader: number; exited: Observation }> {
  const a = new ProcessDriver({ clock: new VirtualClock(START) });
  const exits: Observation[] = [];
  a.onObservation((_id, o) => exits.push(o));
  const t = target();
  const started = await a.start(t);
  const leader = started.pid as number;
  groups.push(leader);
  expect(await eventually(() => groupMembers(leader).length >= 2)).toBe(true);
  writeFileSync(join(dir, "go"), "");
  expect(await eventually(() => exits.length > 0)).toBe(true);
  expect(existsSync(join(dir, "go"))).toBe(true);
  expect(groupMembers(leader)).toHaveLength(1); // the child, within its grace period
  return { a, leader, exited: exits[0]! };
}

describe("leftovers of a leader's own exit, across a server crash", () => {
  test("the exit's observation lists them, and adopting from it after a restart stops them", async () => {
    const { leader, exited } = await leaderExits();
    expect(exited).toMatchObject({ status: "stopped", reason: "exited", exitCode: 3 });
    expect(exited.leftovers).toEqual([expect.objectContaining({ pgid: leader })]);

    const clock = new VirtualClock(START + 60_000);
    const b = new ProcessDriver({ clock });
    expect(await b.adopt(target(), exited)).toMatchObject({ status: "stopped", reason: "not running after restart" });
    await clock.advance(2000); // the leftovers' grace period on the new server's clock
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
    await b.close();
  });

  test("a new tree started meanwhile lists them too: after a restart it is adopted and they are stopped", async () => {
    const { a, leader } = await leaderExits();
    const t = { ...target(), config: { command: "sleep", args: ["300"], cwd: dir } };
    const again = await a.start(t);
    const pid = again.pid as number;
    groups.push(pid);
    expect(again).toMatchObject({ status: "running", leftovers: [expect.objectContaining({ pgid: leader })] });

    const clock = new VirtualClock(START + 60_000);
    const b = new ProcessDriver({ clock });
    expect(await b.adopt(t, again)).toMatchObject({ status: "running", pid, reason: "adopted after restart" });
    await clock.advance(5000);
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
    expect(gone(pid)).toBe(false); // the adopted tree runs on
    await b.close();
  });

  // A review: a stop sent again after a crash in the middle of one found no live tree and was
  // confirmed at once, while the leftovers it had adopted ran on.
  test("a stop sent to the restarted server is confirmed only once the leftovers it adopted are gone", async () => {
    const { leader, exited } = await leaderExits();
    const clock = new VirtualClock(START + 60_000);
    const b = new ProcessDriver({ clock });
    await b.adopt(target(), exited);
    let stopped: Observation | null = null;
    const stopping = b.stop(target()).then((o) => (stopped = o));
    expect(await until(() => stopped !== null, 1000)).toBe(false);
    expect(groupMembers(leader)).toHaveLength(1);
    await clock.advance(2000); // the grace period: the child ignores SIGTERM
    await stopping;
    expect(groupMembers(leader)).toEqual([]);
    expect(stopped).toMatchObject({ status: "stopped" });
    expect(stopped!.leftovers).toBeUndefined();
    await b.close();
  });

  // A review: a DELETE queued behind such a stop waited out the leftovers' whole grace period.
  test("a release queued behind a stop that waits for leftovers ends them at once", async () => {
    const { leader, exited } = await leaderExits();
    const clock = new VirtualClock(START + 60_000);
    const b = new ProcessDriver({ clock });
    await b.adopt(target(), exited);
    let stopped = false;
    const stopping = b.stop(target()).then(() => (stopped = true));
    const releasing = b.release(target(), "stop");
    // No time passes on the clock: the release's SIGKILL ends the leftovers, and the stop with them.
    await releasing;
    await stopping;
    expect(stopped).toBe(true);
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
    await b.close();
  });

  test("a listed group none of whose processes carries the object's mark is left alone", async () => {
    const { leader, exited } = await leaderExits();
    const clock = new VirtualClock(START + 60_000);
    const b = new ProcessDriver({ clock });
    // Adopted for another object: the leftover carries lo-1's mark, not other's.
    await b.adopt(target("other"), exited);
    await clock.advance(5000);
    expect(groupMembers(leader)).toHaveLength(1);
    await b.close();
  });
});
