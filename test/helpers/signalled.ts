// Whether a process was sent a signal that ends it, known the moment kill() returned. A test
// that gives a signal "time to land" and then finds the process alive proves nothing on a
// loaded machine, where the process may not have been scheduled since.

import { readFileSync } from "node:fs";

/** PF_EXITING, in the flags of /proc/<pid>/stat: the process is on its way out. */
const PF_EXITING = 0x4;
/** SIGKILL (9) and SIGTERM (15) in a mask of /proc/<pid>/status: signal n is bit n - 1. */
const ENDING = (1n << 8n) | (1n << 14n);

/**
 * Whether `pid` was sent SIGTERM or SIGKILL (or has ended): it is gone or a zombie, it is
 * exiting, or either signal is pending (SigPnd, ShdPnd). The kernel marks the target of a
 * signal that ends it with SIGKILL pending as it sends it, so this holds at once, whether or
 * not the process has run since.
 */
export function signalled(pid: number): boolean {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return true;
  }
  // Field 2, the command in parentheses, may hold spaces; the state is field 3, the flags field 9.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (["Z", "X", "x"].includes(fields[0]!) || (Number(fields[6]) & PF_EXITING) !== 0) return true;
  return ["SigPnd", "ShdPnd"].some((key) => {
    const mask = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & ENDING) !== 0n;
  });
}
