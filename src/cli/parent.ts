// The process that started this one, when it was npm (`npm start`): npm forwards SIGINT and
// SIGTERM to its script, but if npm itself is killed (SIGKILL, a closed terminal's session
// ending badly), the script would run on unattended, governing with no one watching. So the
// server watches npm and shuts down when it is gone. Linux only (it reads /proc); elsewhere
// nothing is watched.

import { readFileSync } from "node:fs";

const SHELLS = new Set(["sh", "dash", "bash", "zsh"]);

/** Name, state and parent of a process, from /proc/<pid>/stat; null if it is gone. */
function stat(pid: number): { comm: string; state: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The name is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const [state, ppid] = text.slice(close + 2).split(" ");
    return { comm, state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/**
 * The pid of the npm process that runs this server as a script, or null when npm did not
 * start it. npm runs scripts through a shell, which may or may not exec the command: npm is
 * the parent, or the parent's parent.
 */
export function npmProcess(env: NodeJS.ProcessEnv = process.env, ppid = process.ppid): number | null {
  if (!env.npm_lifecycle_event) return null;
  const parent = stat(ppid);
  if (!parent) return null;
  return SHELLS.has(parent.comm) ? parent.ppid : ppid;
}

/** Whether `pid` still runs: not gone, not a zombie waiting to be reaped. */
export function running(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

/**
 * Calls `gone` once when `pid` stops running or this process's own parent changes (an
 * intermediate shell reparented after npm died). Checks every `ms`; the timer does not keep
 * the process alive.
 */
export function watchProcess(pid: number, gone: () => void, ms = 1000): () => void {
  const parent = process.ppid;
  const shell = parent === pid ? null : parent;
  const timer = setInterval(() => {
    const shellOrphaned = shell !== null && stat(shell)?.ppid !== pid;
    if (process.ppid !== parent || shellOrphaned || !running(pid)) {
      clearInterval(timer);
      gone();
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
