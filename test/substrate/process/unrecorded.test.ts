// A server that dies between a start's spawn and the commit of what it observed leaves the tree
// running and the start pending: after the restart the start was sent again, and a second tree
// ran beside the first, governed by nobody (a review reproduced it with kill -9 in both modes).
// Each tree carries the id of the start action that spawned it; adoption takes back the tree of
// a start still pending, and touches nothing else. Real processes; the "restart" is a second
// driver, as after a crash (close() stops nothing).

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { findCgroupParent, type CgroupParent } from "../../../src/substrate/process/cgroup.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { listPids, liveStat, readStat, until } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { removeCgroups } from "../../helpers/process.ts";

// Leads every object id here: the cgroups afterEach removes (obj-unrec-RUN-*) are this run's only, not
// those of the same file run at once elsewhere on the machine (the cgroup parent is shared).
const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Live pids carrying the object's mark. */
function marked(objectId: string): number[] {
  return listPids().filter((pid) => {
    const stat = readStat(pid);
    if (!stat || stat.state === "Z") return false;
    try {
      return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`VIGIL_OBJECT_ID=${objectId}`);
    } catch {
      return false;
    }
  });
}

/** Whether `pid` runs `sleep` now (its shell has exec'd it). */
function execed(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").startsWith("sleep");
  } catch {
    return false;
  }
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
  await removeCgroups(cgroup?.dir, `unrec-${RUN}-`);
});

const modes: [string, CgroupParent | null][] = [["as a process group", null]];
const cgroup = findCgroupParent();
if (cgroup) modes.push(["in a cgroup", cgroup]);

describe.each(modes)("a tree whose start was never recorded, %s", (_how, parent) => {
  const clock = new VirtualClock(0);
  const driver = () => {
    const d = new ProcessDriver({ clock, cgroup: parent });
    drivers.push(d);
    return d;
  };
  const target = (tag: string, command = "exec sleep 300"): DriverTarget => {
    const objectId = `unrec-${RUN}-${tag}`;
    ids.push(objectId);
    return { objectId, config: { command: "sh", args: ["-c", command], graceMs: 100 } };
  };

  test("is taken back at adoption by its pending start, which then finds it running: one tree", async () => {
    const t = target("a");
    const spawned = await driver().start({ ...t, action: "act_a1" }); // the server dies before recording it
    // Read once it runs `sleep` (during an exec, /proc shows no environment for a moment).
    expect(await eventually(() => execed(spawned.pid as number))).toBe(true);
    const after = driver();
    const adopted = await after.adopt(t, null, ["act_a0", "act_a1"]);
    expect(adopted).toMatchObject({ status: "running", pid: spawned.pid, reason: "adopted after restart" });
    const again = await after.start({ ...t, action: "act_a1" });
    expect(again).toMatchObject({ status: "running", pid: spawned.pid });
    expect(marked(t.objectId)).toEqual([spawned.pid]);
    // Governed again: a stop ends it.
    let stopped: unknown = null;
    void after.stop(t).then((o) => (stopped = o));
    // The tree's exit is the kernel's, in real time, and the adopted leader (not the driver's
    // child) is seen gone by its watch on the clock: the clock moves on once it is gone.
    expect(await eventually(() => liveStat(spawned.pid as number, null) === null)).toBe(true);
    for (let i = 0; i < 20 && stopped === null; i++) {
      await clock.advance(100);
      await until(() => stopped !== null, 100);
    }
    expect(await eventually(() => stopped !== null)).toBe(true);
    expect(stopped).toMatchObject({ status: "stopped", pid: spawned.pid });
    expect(await eventually(() => marked(t.objectId).length === 0)).toBe(true);
  });

  test("a tree of a start that is not pending (recorded, or kept by a DELETE) is left alone", async () => {
    const t = target("b");
    const d = driver();
    const kept = await d.start({ ...t, action: "act_b1" });
    expect(await eventually(() => execed(kept.pid as number))).toBe(true);
    await d.release(t, "keep"); // DELETE ?compute=keep; the id is used again
    const adopted = await driver().adopt(t, null, ["act_b2"]);
    expect(adopted).toMatchObject({ status: "stopped", reason: "not running after restart" });
    expect(adopted.leftovers).toBeUndefined();
    await clock.advance(1_000);
    expect(marked(t.objectId)).toEqual([kept.pid]);
  });

  test("one whose leader died is not taken back through what is left of it, and nothing is signalled", async () => {
    // The leader exits after its server died (closed here: it sweeps nothing more).
    const t = target("c", "sleep 300 & sleep 0.3; exit 0");
    const before = driver();
    const spawned = await before.start({ ...t, action: "act_c1" });
    await before.close();
    expect(await eventually(() => !marked(t.objectId).includes(spawned.pid as number))).toBe(true);
    const left = marked(t.objectId);
    expect(left).toHaveLength(1);
    const adopted = await driver().adopt(t, null, ["act_c1"]);
    expect(adopted).toMatchObject({ status: "stopped", reason: "not running after restart" });
    expect(adopted.leftovers).toBeUndefined();
    await clock.advance(1_000);
    expect(marked(t.objectId)).toEqual(left);
  });

  test("a live leader that wrote over its environment (perl's $0) is taken back through a child that shows the marks", async () => {
    const t = target("p", `exec perl -e '$0 = "master"; system("sleep 300 &"); sleep 300'`);
    const spawned = await driver().start({ ...t, action: "act_p1" });
    const leader = spawned.pid as number;
    const title = () => {
      try {
        return readFileSync(`/proc/${leader}/cmdline`, "latin1");
      } catch {
        return "";
      }
    };
    try {
      // Until the one child showing the marks is the sleep: the shell perl's system() runs shows
      // them too, for a moment, and exits (the test failed once under load, and this is the race
      // that could explain it).
      const comm = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, "latin1").trim();
        } catch {
          return "";
        }
      };
      const child = () => marked(t.objectId).map(comm).join(",") === "sleep";
      expect(await eventually(() => title().startsWith("master") && child())).toBe(true);
      expect(marked(t.objectId)).not.toContain(leader);
      const adopted = await driver().adopt(t, null, ["act_p1"]);
      expect(adopted).toMatchObject({ status: "running", pid: leader, reason: "adopted after restart" });
      await clock.advance(1_000);
      expect(readStat(leader)?.state).not.toBe("Z");
    } finally {
      process.kill(-leader, "SIGKILL"); // it shows no mark for afterEach to find
    }
  });

  // Found in review: when the only process showing the marks had moved into a process group of its
  // own within the session (setpgid, as `timeout` or a shell with `set -m` does for its jobs), it
  // led that group and was taken for the tree's leader: the live leader, which wrote over its
  // environment, was left out, governed by nobody, and a stop of the object ended only the child's
  // group. The leader of the marked process's session, the command Vigil spawned, is taken now.
  test("a live leader that wrote over its environment is taken back through a child that leads a group of its own", async () => {
    const t = target("g", `exec perl -e '$0 = "master"; if (!fork) { setpgrp(0, 0); exec "sleep", "300" } sleep 300'`);
    const spawned = await driver().start({ ...t, action: "act_g1" });
    const leader = spawned.pid as number;
    try {
      // Until the child has exec'd sleep (its environment laid out afresh, with the marks) in its own group.
      const child = () => {
        const [pid] = marked(t.objectId);
        return pid !== undefined && execed(pid) && readStat(pid)?.pgrp === pid ? pid : null;
      };
      expect(await eventually(() => child() !== null && marked(t.objectId).length === 1)).toBe(true);
      expect(child()).not.toBe(leader);
      const adopted = await driver().adopt(t, null, ["act_g1"]);
      expect(adopted).toMatchObject({ status: "running", pid: leader, reason: "adopted after restart" });
    } finally {
      process.kill(-leader, "SIGKILL"); // it shows no mark for afterEach to find
    }
  });

  test("a live leader is taken back even beside a double-forked daemon whose session leader exited; the daemon is left be", async () => {
    // fork, setsid, fork, exit: the daemon is left in a group whose leader is gone.
    const t = target("d", "sh -c 'setsid sh -c \"sleep 300 & exit 0\" & wait'; exec sleep 300");
    const spawned = await driver().start({ ...t, action: "act_d1" });
    // Until both show `sleep`: the daemon's shell shows the marks too, for a moment, before it
    // forks the daemon and exits (taken for the daemon, it failed the test once under load).
    const both = () => marked(t.objectId);
    expect(await eventually(() => both().length === 2 && both().every(execed))).toBe(true);
    const daemon = marked(t.objectId).find((p) => p !== spawned.pid)!;
    const adopted = await driver().adopt(t, null, ["act_d1"]);
    expect(adopted).toMatchObject({ status: "running", pid: spawned.pid, reason: "adopted after restart" });
    expect(adopted.leftovers).toBeUndefined();
    await clock.advance(1_000);
    expect(marked(t.objectId).sort()).toEqual([spawned.pid, daemon].sort());
  });
});
