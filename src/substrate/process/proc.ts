// Reading /proc (Linux): a process's state letter, process group and start time, its resident
// memory, the processes of a group, and the boot id. These tell a suspended process from a
// running one, and a process Vigil started from another that happens to have the same pid
// (pids are reused; pid + start time + boot id are not).
//
// The file is past 400 lines because every read of /proc the driver makes is here, each with the
// kernel's own quirks it must step around (a zombie leader with live threads, an environment
// shown empty during an exec), and those quirks belong beside the one read that meets them.

import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Whether /proc can be read here. Without it the driver trusts its own table. */
export const procfs = existsSync("/proc/self/stat");

export interface ProcStat {
  /**
   * Field 3: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, X dead. For a
   * process whose main thread has exited while other threads run on, that of those threads.
   */
  state: string;
  /** Field 4: the parent. */
  ppid: number;
  /** Field 5: the process group. */
  pgrp: number;
  /** Field 6: the session. */
  session: number;
  /** Field 22: when the process started, in clock ticks since boot. */
  startTime: number;
}

/**
 * The fields of a /proc stat line from the third (the state) on: field N is at N - 3. Field 2 is
 * the command name in parentheses and may itself hold spaces and ')'.
 */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * The pid's state, group and start time, or null when there is no such process.
 *
 * A process whose main thread ended with pthread_exit() while others run on lives, but its
 * leader, whose entry /proc/<pid>/stat is, reads `Z` until the last thread exits (the kernel
 * keeps the leader as a zombie for as long as its thread group has members). Field 20 counts
 * the group's threads, the leader's included: 1 for a process that has exited. Above that, the
 * state is read from the other threads (/proc/<pid>/task).
 */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const fields = statFields(text);
  let state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const session = Number(fields[3]);
  const threads = Number(fields[17]);
  const startTime = Number(fields[19]);
  if (!state || ![ppid, pgrp, session, startTime].every(Number.isSafeInteger)) return null;
  if (state === "Z" && threads > 1) state = threadsState(pid) ?? state;
  return { state, ppid, pgrp, session, startTime };
}

/**
 * The state of `pid`'s threads other than its leader: stopped when every live one is stopped,
 * else that of the first one that is not; null when none of them lives.
 */
function threadsState(pid: number): string | null {
  const states = otherThreads(pid).flatMap((tid) => {
    const s = threadStat(pid, tid);
    return s === null || s === "Z" || s === "X" || s === "x" ? [] : [s];
  });
  return states.find((s) => s !== "T" && s !== "t") ?? states[0] ?? null;
}

/** The ids of `pid`'s threads but its leader's (none when they cannot be listed). */
function otherThreads(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .filter((tid) => tid !== pid);
  } catch {
    return [];
  }
}

/** Field 3 of one thread's stat, or null when it is gone. */
function threadStat(pid: number, tid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    return statFields(text)[0] || null;
  } catch {
    return null;
  }
}

/** Without /proc: the state of a leader as the driver last left it (stopped or not). */
export const trusted = (pid: number, stopped: boolean): ProcStat => ({
  state: stopped ? "T" : "S",
  ppid: 0,
  pgrp: pid,
  session: pid,
  startTime: 0,
});

/** Stopped by a signal (SIGSTOP) or by a tracer. */
export const isStopped = (stat: ProcStat): boolean => stat.state === "T" || stat.state === "t";

/** Exited but not yet reaped, or being torn down (of a leader: with the rest of its threads, see readStat). */
export const isGone = (stat: ProcStat): boolean => stat.state === "Z" || stat.state === "X" || stat.state === "x";

/**
 * `pid`'s state while it is the process started at `startTime` (any, given null) and has not
 * exited; null once it is gone or its pid names another process.
 */
export function liveStat(pid: number, startTime: number | null): ProcStat | null {
  const stat = readStat(pid);
  return stat && !isGone(stat) && (startTime === null || stat.startTime === startTime) ? stat : null;
}

/** Every pid in /proc now. */
export function listPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** A live process of a tree, with its state. */
export interface Member extends ProcStat {
  pid: number;
}

/**
 * The live (not exited) members of a process group with their state, and of the session of the
 * same number (a group's leader that called setsid leads both): a process that moved itself into
 * a group of its own without leaving the session (setpgid, as coreutils `timeout` and a shell
 * with job control do) is still of the tree. The leader first when it lives: one read of every
 * process's stat in /proc.
 */
export function groupStats(pgid: number): Member[] {
  const out: Member[] = [];
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && (stat.pgrp === pgid || stat.session === pgid) && !isGone(stat)) out.push({ ...stat, pid });
  }
  return out.sort((a, b) => (a.pid === pgid ? -1 : b.pid === pgid ? 1 : a.pid - b.pid));
}

/** The pids of {@link groupStats}. */
export function groupMembers(pgid: number): number[] {
  return groupStats(pgid).map((m) => m.pid);
}

/** `pids` that are live, with their state. */
export function statsOf(pids: number[]): Member[] {
  return pids.flatMap((pid) => {
    const stat = liveStat(pid, null);
    return stat ? [{ ...stat, pid }] : [];
  });
}

/**
 * Whether `pid`'s environment (as it was at its exec, /proc/<pid>/environ) holds `entry`
 * (`NAME=value`); false when it cannot be read (gone, another user's).
 */
export function environHas(pid: number, entry: string): boolean {
  return environ(pid).includes(entry);
}

/**
 * `pid`'s environment as /proc shows it (`NAME=value` entries); none when it cannot be read.
 *
 * During an exec /proc shows a process's environment empty, for a while (measured here: one read
 * in 30 to 100 of a shell that execs in a loop), and a mark read then was missing: a stop took
 * the group of a worker starting its program for another's and answered `stopped` while it ran.
 * An empty read is therefore made again while the process may be in an exec: its environment's
 * end in memory (field 51 of /proc/<pid>/stat) not yet laid out (0), or moved since the read
 * before (the old program's, then the new one's), or the process in `D`, as an exec is while it
 * waits on the kernel. One read empty twice running with its environment laid out at the same
 * place, not in `D`, has an empty environment (`env -i`). Up to {@link EXEC_REREADS} reads.
 */
export function environ(pid: number): string[] {
  let laidOutAt = 0;
  for (let reads = 0; reads <= EXEC_REREADS; reads++) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch (e) {
      // A leader whose main thread has exited (pthread_exit) while others run on: the read is
      // refused (ESRCH), as for one that has gone, and its threads show the environment.
      return (e as NodeJS.ErrnoException).code === "ESRCH" ? threadsEnviron(pid) : [];
    }
    if (text !== "") return text.split("\0");
    const now = environmentState(pid);
    // A zombie leader (read empty on other kernels) may have threads that run on: theirs.
    if (now === null) return threadsEnviron(pid);
    const at = now.state === "D" ? 0 : now.end;
    if (at !== 0 && at === laidOutAt) return [];
    laidOutAt = at;
  }
  return [];
}

/**
 * The environment of `pid`'s threads but its leader (readStat's zombie leader with live threads,
 * whose own /proc/<pid>/environ shows none): the first that reads; none when no thread runs on.
 */
function threadsEnviron(pid: number): string[] {
  for (const tid of otherThreads(pid)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/environ`, "latin1");
    } catch {
      continue;
    }
    if (text !== "") return text.split("\0");
  }
  return [];
}

/** How many times an environment read empty during an exec is made again (a few tens of milliseconds at most). */
const EXEC_REREADS = 2000;

/**
 * `pid`'s state letter and where its environment ends in its memory (0 until an exec lays it
 * out); null when there is none to wait for: it is gone, or it is a zombie or a kernel thread,
 * which has no environment at all (read empty on older kernels, and its end 0 for good).
 */
function environmentState(pid: number): { state: string; end: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return environmentPlace(text);
}

/** The kernel's flag of a kernel thread (PF_KTHREAD), in field 9 of /proc/<pid>/stat. */
const PF_KTHREAD = 0x00200000;

/** {@link environmentState} from the text of /proc/<pid>/stat. */
export function environmentPlace(stat: string): { state: string; end: number } | null {
  // The flags are field 9, env_end field 51.
  const fields = statFields(stat);
  const state = fields[0] ?? "";
  const flags = Number(fields[9 - 3]);
  const end = Number(fields[51 - 3]);
  if (state === "Z" || state === "X" || !Number.isSafeInteger(end) || !Number.isSafeInteger(flags)) return null;
  return flags & PF_KTHREAD ? null : { state, end };
}

/** The close-on-exec flag of an open file, as /proc/<pid>/fdinfo shows it (octal O_CLOEXEC). */
const O_CLOEXEC = 0o2000000;

/**
 * This server's descriptors above stderr that a process it spawns would inherit: those not
 * close-on-exec. Node and libuv open every descriptor of their own close-on-exec, and Node marks
 * those it inherited so only up to the first gap past 15: one given to the server further up
 * (`exec 100>file; vigil serve`, a service manager's, a supervisor's pipe) is open in every
 * process it spawns. None without /proc.
 */
export function inheritedFds(): number[] {
  let fds: number[];
  try {
    fds = readdirSync("/proc/self/fd").map(Number);
  } catch {
    return [];
  }
  return fds.filter((fd) => {
    if (!(fd > 2)) return false;
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
      return flags !== null && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0;
    } catch {
      // Closed since it was listed (the listing's own descriptor among them).
      return false;
    }
  });
}

/**
 * Resident memory of a process in bytes (VmRSS), or null when it is gone or has none. A leader
 * whose main thread has exited shows none of its own: its process's is read from another thread.
 */
export function rssBytes(pid: number): number | null {
  const own = vmRss(`/proc/${pid}/status`);
  if (own !== undefined) return own;
  for (const tid of otherThreads(pid)) {
    const theirs = vmRss(`/proc/${pid}/task/${tid}/status`);
    if (typeof theirs === "number") return theirs;
  }
  return null;
}

/** VmRSS of a status file in bytes; null when it is gone, undefined when it shows none. */
function vmRss(file: string): number | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

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

let namespace: string | null | undefined;

/**
 * The pid namespace this server runs in, as `pid:[inode]@ticks`: pids, and so process groups,
 * are numbered within one. A container that restarts gets a new one, in the same boot, where
 * the old group's id may belong to a process of the new container; and the kernel hands out a
 * freed namespace's inode number again, so the start time of the namespace's first process
 * (pid 1 in its /proc, in clock ticks since boot) tells a new namespace from the old one.
 */
export function pidNamespace(): string | null {
  if (namespace === undefined) {
    try {
      const init = readStat(1);
      namespace = `${readlinkSync("/proc/self/ns/pid")}@${init ? init.startTime : "?"}`;
    } catch {
      namespace = null;
    }
  }
  return namespace;
}

/**
 * Whether a recorded `pidNamespace` is this server's: the same, or recorded before the start
 * time was kept with the number (then the number is all there is to compare), or not recorded.
 */
export function inThisNamespace(recorded: unknown): boolean {
  if (recorded === undefined) return true;
  const here = pidNamespace();
  if (typeof recorded !== "string" || here === null) return false;
  return recorded === here || (!recorded.includes("@") && recorded === here.split("@")[0]);
}

/**
 * Re-reads until `done()` holds, yielding to the event loop (setImmediate) between reads, at
 * most `tries` times. A signal is not acted on the moment kill() returns: the target must be
 * scheduled to stop itself. Returns whether `done()` held in the end.
 */
export async function until(done: () => boolean, tries = 10_000): Promise<boolean> {
  for (let i = 0; ; i++) {
    if (done()) return true;
    if (i >= tries) return false;
    await new Promise<void>((r) => setImmediate(r));
  }
}

/**
 * Re-reads until `done()` holds, every `everyMs` of real time, for at most `withinMs` of it:
 * a watch on processes the kernel is ending, which costs next to nothing between reads where
 * {@link until} spins. Not a timer of the governed object: those (a grace period) run on the
 * injected clock.
 */
export async function watchFor(done: () => boolean, withinMs: number, everyMs = 2): Promise<boolean> {
  const end = performance.now() + withinMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() >= end) return false;
    // Unreferenced: a watch never keeps a server that is shutting down from exiting.
    await new Promise<void>((r) => setTimeout(r, everyMs).unref());
  }
}

/**
 * Waits until `done` holds for a tree's live members, for at most `withinMs` of real time, and
 * resolves with them (null when the time ran out). `readAll` reads the whole tree (for a
 * process group, all of /proc); between two such reads only the members the last one found are
 * watched, each by its own /proc entry (a member that exited, or left the group, drops out):
 * for a few turns of the event loop, then every few milliseconds. A process forked meanwhile is
 * not among them, so the whole tree is read again when `done` holds for them (to confirm it),
 * and at least every REREAD_MS while it does not (a member slow to change must not hide a new
 * one). `first` is a read of the whole tree already made (the one a signal was sent after).
 */
export async function settle(
  readAll: () => Member[],
  done: (members: Member[]) => boolean,
  withinMs: number,
  first: Member[] = readAll(),
): Promise<Member[] | null> {
  const end = performance.now() + withinMs;
  let all = first;
  for (let misses = 0; ;) {
    if (done(all)) return all;
    const left = end - performance.now();
    if (left <= 0) return null;
    // The members watched were done and the tree was not (processes forked meanwhile, one
    // that left as another came): each such read of the whole tree waits a little longer.
    if (misses > 0) await new Promise<void>((r) => setTimeout(r, Math.min(2 ** misses, REREAD_MS, left)).unref());
    let known = all;
    const watched = () => {
      known = known.flatMap((m) => {
        const stat = liveStat(m.pid, m.startTime);
        return stat && stat.pgrp === m.pgrp ? [{ ...stat, pid: m.pid }] : [];
      });
      if (done(known)) return true;
      // A member blocked in `D` may wait on a child forked after the read: a vfork()'s parent
      // waits until its child execs, and a child stopped before it could stays stopped. Its
      // children join the watch (where they cannot be listed, the next read of the whole tree
      // finds them).
      const joined = blockedChildren(known);
      if (joined.length === 0) return false;
      known = [...known, ...joined];
      return done(known);
    };
    const held = await waitFor(watched, Math.min(left, REREAD_MS));
    all = readAll();
    misses = held && !done(all) ? misses + 1 : 0;
  }
}

/** The longest a {@link settle} watches the members it knows without reading the whole tree. */
const REREAD_MS = 100;

/**
 * The children, not yet among `members`, of those in state `D` (each in its parent's group);
 * none where the kernel does not list a process's children (/proc/<pid>/task/<tid>/children
 * needs CONFIG_PROC_CHILDREN).
 */
function blockedChildren(members: Member[]): Member[] {
  const out: Member[] = [];
  const known = new Set(members.map((m) => m.pid));
  for (const m of members) {
    if (m.state !== "D") continue;
    for (const pid of childrenOf(m.pid)) {
      const stat = known.has(pid) ? null : liveStat(pid, null);
      if (stat && stat.pgrp === m.pgrp) {
        known.add(pid);
        out.push({ ...stat, pid });
      }
    }
  }
  return out;
}

/** The pids of `pid`'s children, from each of its threads; none when they cannot be listed. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Re-reads until `done` holds, for at most `withinMs` of real time: at each of the next few
 * turns of the event loop (a signal is usually acted on within them), then every few
 * milliseconds ({@link watchFor}). For reads that cost little: a watch that reads all of /proc
 * should not read it at every turn.
 */
export async function waitFor(done: () => boolean, withinMs: number): Promise<boolean> {
  return (await until(done, 20)) || watchFor(done, withinMs);
}
