// Reading /proc (Linux): a process's state letter and start time, and the boot id. These tell
// a suspended process from a running one, and a process Vigil started from another that
// happens to have the same pid (pids are reused; pid + start time + boot id are not).

import { existsSync, readFileSync } from "node:fs";

/** Whether /proc can be read here. Without it the driver trusts its own table. */
export const procfs = existsSync("/proc/self/stat");

export interface ProcStat {
  /** Field 3: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, X dead. */
  state: string;
  /** Field 22: when the process started, in clock ticks since boot. */
  startTime: number;
}

/** The pid's state and start time, or null when there is no such process. */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces and ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (!state || !Number.isSafeInteger(startTime)) return null;
  return { state, startTime };
}

/** Stopped by a signal (SIGSTOP) or by a tracer. */
export const isStopped = (stat: ProcStat): boolean => stat.state === "T" || stat.state === "t";

/** Exited but not yet reaped, or being torn down. */
export const isGone = (stat: ProcStat): boolean => stat.state === "Z" || stat.state === "X" || stat.state === "x";

let boot: string | null | undefined;

/** This boot's id: start times count from boot, so they identify a process only within one. */
export function bootId(): string | null {
  if (boot === undefined) {
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      boot = null;
    }
  }
  return boot;
}

/**
 * Re-reads the pid's state until `done` holds or the process is gone, yielding to the event
 * loop (setImmediate) between reads, at most `tries` times. A signal is not acted on the moment
 * kill() returns: the target must be scheduled to stop itself. Returns the last state read.
 */
export async function waitForState(
  pid: number,
  done: (stat: ProcStat) => boolean,
  tries = 10_000,
): Promise<ProcStat | null> {
  for (let i = 0; ; i++) {
    const stat = readStat(pid);
    if (!stat || isGone(stat) || done(stat) || i >= tries) return stat;
    await new Promise<void>((r) => setImmediate(r));
  }
}
