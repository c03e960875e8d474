// For an instant of each exec, /proc shows a process's environment empty (the new program's
// memory is in place, its stack not yet laid out). A read of the object's mark then found
// none: a stop took the group of a worker starting its program for another's and answered
// `stopped` while it ran (stop-refused.test.ts met it one run in twenty under load). Here a
// shell execs itself a few hundred times carrying a mark, and ends in `sleep`; every read of its
// environment made meanwhile must find the mark.

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setImmediate as turn } from "node:timers/promises";
import { expect, onTestFinished, test } from "vitest";
import { environ, environHas, environmentPlace, procfs } from "../../../src/substrate/process/proc.ts";

const MARK = "VIGIL_OBJECT_ID=environ-exec";
/** Execs itself `$1` more times, then becomes `sleep`. */
const SCRIPT = 'n=$1; if [ "$n" -gt 0 ]; then exec /bin/sh -c "$0" "$0" $((n-1)); fi; exec sleep 60';

/** The command name of `pid` (/proc/<pid>/comm), or null when it is gone. */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

test.skipIf(!procfs)("a read during an exec finds the environment the exec keeps, never none", async () => {
  const child = spawn("/bin/sh", ["-c", SCRIPT, SCRIPT, "400"], {
    env: { VIGIL_OBJECT_ID: "environ-exec" },
    stdio: "ignore",
  });
  onTestFinished(() => void child.kill("SIGKILL"));
  const pid = child.pid!;
  let reads = 0;
  let missed = 0;
  while (commandOf(pid) !== "sleep") {
    if (!environHas(pid, MARK)) missed++;
    if (++reads % 200 === 0) await turn();
  }
  expect({ reads: reads > 1000, missed }).toEqual({ reads: true, missed: 0 });
  // An environment that is empty is told apart: read empty, not waited on.
  const empty = spawn("/bin/sleep", ["60"], { env: {}, stdio: "ignore" });
  onTestFinished(() => void empty.kill("SIGKILL"));
  await expect.poll(() => commandOf(empty.pid!)).toBe("sleep");
  expect(environ(empty.pid!).filter((e) => e !== "")).toEqual([]);
});

// A kernel thread has no environment: its end is 0 for good, as an exec's is for a while. Read
// empty (older kernels; this one refuses the read), it was read again 2,000 times, and the scan
// of every process at adoption did so for each kernel thread. kthreadd (pid 2) is one where the
// server shares the host's process ids.
const kthreadd = existsSync("/proc/2/stat") && readFileSync("/proc/2/stat", "utf8").includes("(kthreadd)");
test.skipIf(!kthreadd)("a kernel thread's environment is none, not one an exec is laying out", () => {
  const stat = readFileSync("/proc/2/stat", "utf8");
  expect(environmentPlace(stat)).toBeNull();
  expect(environmentPlace(readFileSync(`/proc/${process.pid}/stat`, "utf8"))).toMatchObject({ state: "R" });
});
