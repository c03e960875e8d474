// What a stop costs while the rest of the tree takes its time to exit. Found in a review: once
// the leader had exited, the stop re-read the whole of /proc (every process's stat, to find the
// group's members) at every turn of the event loop, up to a thousand times, about 1.7 s of CPU
// when a child took a second to shut down. The stop now watches only the processes it signalled,
// and reads the whole tree once they are gone, then at each check on the clock.

import { spawn } from "node:child_process";
import { afterEach, expect, test } from "vitest";
import { Governed } from "../../../src/substrate/process/governed.ts";
import { groupMembers, procfs, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { ProcessGroupTree } from "../../../src/substrate/process/tree.ts";
import { SystemClock } from "../../../src/timers/clock.ts";
import { countProcScans } from "../../helpers/proc-scans.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
afterEach(() => killGroups(groups));

test.skipIf(!procfs)(
  "a child shutting down slowly is watched, not found by reading all of /proc again and again",
  async () => {
    // The leader dies of the SIGTERM at once; its child takes 0.3 s to finish once it has it.
    const child = "trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.05; done";
    const leader = spawn("sh", ["-c", `sh -c "${child}" & wait`], { detached: true, stdio: "ignore" });
    const pid = leader.pid as number;
    groups.push(pid);
    expect(await eventually(() => groupMembers(pid).length >= 3)).toBe(true);

    const tree = new ProcessGroupTree(pid);
    const scans = countProcScans();
    // A real clock: the checks after the first wait are 100 ms apart, as on a server.
    const g = new Governed(pid, readStat(pid)!.startTime, leader, tree, 60_000, new SystemClock());
    leader.once("exit", (exitCode, signal) => g.settle({ exitCode, signal }));

    expect(await g.terminate()).toEqual({ exitCode: null, signal: "SIGTERM" });
    expect(groupMembers(pid)).toEqual([]);
    // Signalling, thawing and the checks: a handful of reads, where every turn of the loop
    // read it before (hundreds in 0.3 s).
    expect(scans.count).toBeLessThan(30);
  },
);
