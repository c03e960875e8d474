// A server that dies between a start's spawn and the commit of its observation leaves a tree its
// database knows nothing of: after the restart the start is sent again, and the first tree ran on
// beside the second, governed by nobody (a review reproduced it with kill -9 in both modes). The
// trees carry their database's mark and their spawn's, and adoption stops those of the object's
// that were never recorded; another database's trees with the same object id are left alone.
// Real processes; the "restart" is a second driver, as after a crash (close() stops nothing).

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import type { Observation } from "../../../src/core/types.ts";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { findCgroupParent, type CgroupParent } from "../../../src/substrate/process/cgroup.ts";
import { governorMark, ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { listPids, readStat, until } from "../../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";

const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const MINE = governorMark(`file:/tmp/vigil-unrecorded-${RUN}.db`, () => `/tmp/vigil-unrecorded-${RUN}.db`);
const OTHER = governorMark(`file:/tmp/vigil-other-${RUN}.db`, () => `/tmp/vigil-other-${RUN}.db`);

/** Live pids carrying the object's mark (and, given one, that database's). */
function marked(objectId: string, governor?: string): number[] {
  return listPids().filter((pid) => {
    const stat = readStat(pid);
    if (!stat || stat.state === "Z") return false;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      return (
        env.includes(`VIGIL_OBJECT_ID=${objectId}`) &&
        (governor === undefined || env.includes(`VIGIL_GOVERNOR=${governor}`))
      );
    } catch {
      return false;
    }
  });
}

const ids: string[] = [];
const drivers: ProcessDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  for (const id of ids.splice(0))
    for (const pid of marked(id))
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
});

const modes: [string, CgroupParent | null][] = [["as a process group", null]];
const cgroup = findCgroupParent();
if (cgroup) modes.push(["in a cgroup", cgroup]);

describe.each(modes)("trees spawned and never recorded, %s", (_how, parent) => {
  const clock = new VirtualClock(0);
  const driver = (governor: string) => {
    const d = new ProcessDriver({ clock, cgroup: parent, governor });
    drivers.push(d);
    return d;
  };
  const target = (tag: string): DriverTarget => {
    const objectId = `unrec-${tag}-${RUN}`;
    ids.push(objectId);
    return { objectId, config: { command: "sleep", args: ["300"], graceMs: 100 } };
  };
  /** Whether none of `pids` runs any more. */
  const gone = (objectId: string, pids: number[]) =>
    until(() => {
      const now = marked(objectId);
      return pids.every((p) => !now.includes(p));
    }, 5_000_000);

  test("a tree whose start was never recorded is stopped at adoption; the start sent again leaves one tree", async () => {
    const t = target("a");
    await driver(MINE).start(t); // the server dies before the observation is committed
    const orphan = marked(t.objectId);
    expect(orphan).toHaveLength(1);
    const after = driver(MINE);
    const adopted = await after.adopt(t, null);
    expect(adopted).toMatchObject({ status: "stopped", reason: "not running after restart" });
    expect(adopted.leftovers).toHaveLength(1);
    await clock.advance(100);
    expect(await gone(t.objectId, orphan)).toBe(true);
    const again = await after.start(t);
    expect(marked(t.objectId)).toEqual([again.pid]);
  });

  test("the recorded tree is adopted and kept; one spawned after it and never recorded is stopped", async () => {
    const t = target("b");
    const recorded = await driver(MINE).start(t);
    const first = marked(t.objectId);
    // A later start of the object, by a server that died before recording it.
    const second = await driver(MINE).start({ ...t });
    expect(second.pid).not.toBe(recorded.pid);
    const unrecorded = marked(t.objectId).filter((p) => !first.includes(p));
    expect(unrecorded).toEqual([second.pid]);
    const after = driver(MINE);
    const adopted = await after.adopt(t, recorded);
    expect(adopted).toMatchObject({ status: "running", pid: recorded.pid, reason: "adopted after restart" });
    await clock.advance(100);
    expect(await gone(t.objectId, unrecorded)).toBe(true);
    expect(marked(t.objectId)).toEqual(first);
  });

  test("another database's tree of an object with the same id is left running", async () => {
    const t = target("c");
    const theirs = await driver(OTHER).start(t);
    const adopted = await driver(MINE).adopt(t, null);
    expect(adopted.leftovers).toBeUndefined();
    await clock.advance(1_000);
    expect(marked(t.objectId, OTHER)).toEqual([theirs.pid]);
  });

  test("a tree adopted from an observation without its spawn's mark (an older server's) leaves the others be", async () => {
    const t = target("d");
    const recorded: Observation = { ...(await driver(MINE).start(t)) };
    delete recorded.spawn;
    const other = await driver(MINE).start({ ...t });
    const adopted = await driver(MINE).adopt(t, recorded);
    expect(adopted).toMatchObject({ status: "running", pid: recorded.pid });
    await clock.advance(1_000);
    expect(marked(t.objectId).sort()).toEqual([recorded.pid, other.pid].sort());
  });
});
