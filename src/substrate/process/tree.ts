// An object's compute as a whole tree of processes, not one pid: the command Vigil spawned
// leads its own process group and its own session, and everything it forks belongs to them (a
// process may move into another group of the session, but leaves the session only by setsid).
// Suspending freezes every member, waking thaws every member, stopping signals every member.
// cgroup.ts offers the same interface over a cgroup, which also holds a descendant that left
// the session.

import type { Json } from "../../core/types.ts";
import { groupStats, isStopped, rssBytes, settle, type Member } from "./proc.ts";

/** What a tree reports of itself in an observation. */
export interface TreeReport {
  /** Every live process of the tree, the leader first, with its resident memory. */
  processes: { pid: number; rssBytes: number | null }[];
  /** Their resident memory together, in bytes. */
  rssBytes: number;
  [key: string]: Json;
}

export interface ProcessTree {
  /** The pids of the tree's live processes, the leader first while it lives. */
  members(): number[];
  /** The tree's live processes with their state, in the same order. */
  stats(): Member[];
  /** Sends `signal` to every live process of the tree; returns them, as read just before. */
  signal(signal: NodeJS.Signals): Member[];
  /** Stops every process from running (resolves true once all are stopped or frozen). */
  freeze(): Promise<boolean>;
  /** Lets every process run again (resolves true once none is stopped). */
  thaw(): Promise<boolean>;
  /** True when the tree has processes and none of them can run. */
  frozen(): boolean;
  /** Ends every process at once, frozen or not; returns those it went to, as read just before. */
  kill(): Member[];
  /**
   * Whether the last kill() ended every process whatever user it runs as (v2's `cgroup.kill`,
   * written), where a signal of this server's may be refused (EPERM).
   */
  killsAll(): boolean;
  /** Frees what the tree holds (a cgroup directory) once it is empty. */
  dispose(): void;
  report(): TreeReport;
  /** What names the tree in an observation: `{ pgid }`, or `{ cgroup }` (its directory). */
  identity(): { pgid: number } | { cgroup: string };
}

/** The most processes an observation lists (the total memory counts them all). */
const LISTED = 32;

/** Resident memory of each member, for an observation. */
export function reportOf(pids: number[], extra: Record<string, Json> = {}): TreeReport {
  const all = pids.map((pid) => ({ pid, rssBytes: rssBytes(pid) }));
  const total = all.reduce((n, p) => n + (p.rssBytes ?? 0), 0);
  const report: TreeReport = { processes: all.slice(0, LISTED), rssBytes: total, ...extra };
  if (all.length > LISTED) report.processCount = all.length;
  return report;
}

/**
 * A process group whose leader Vigil spawned with `setsid` (so the group id, and the session's,
 * is the leader's pid), with the other groups of that session. Signals go to each group with a
 * member, with `kill(-pgrp)`, and only while it has members: the kernel does not give a group's
 * or a session's id to a new process while the group or the session exists, and a group is all
 * in one session, so a group with members in this session is Vigil's, and an empty one is never
 * signalled.
 */
export class ProcessGroupTree implements ProcessTree {
  constructor(readonly pgid: number) {}

  members(): number[] {
    return this.stats().map((m) => m.pid);
  }

  stats(): Member[] {
    return groupStats(this.pgid);
  }

  /**
   * SIGSTOP to the group until every member reads `T`. A shell caught in vfork() waits in `D`
   * for its child, stopped before it could exec, and cannot reach `T` itself: the tree is
   * thawed and stopped again (a few rounds at most), and if that keeps happening, such a
   * blocked parent counts as frozen, for it cannot run until its child does.
   */
  async freeze(): Promise<boolean> {
    const rounds = 10;
    for (let round = 1; ; round++) {
      const signalled = this.signal("SIGSTOP");
      const stats = await settle(
        () => this.stats(),
        (s) => s.length === 0 || frozenOf(s),
        SETTLE_MS,
        signalled,
      );
      if (!stats) return false;
      // The last round leaves a parent blocked on its stopped child as it is: frozen.
      if (stats.length === 0 || round === rounds || stats.every(isStopped)) return true;
      this.signal("SIGCONT");
    }
  }

  async thaw(): Promise<boolean> {
    const signalled = this.signal("SIGCONT");
    return (
      (await settle(
        () => this.stats(),
        (s) => !s.some(isStopped),
        SETTLE_MS,
        signalled,
      )) !== null
    );
  }

  /** True when no member can run: each is stopped, or blocked on a stopped child of the tree. */
  frozen(): boolean {
    return frozenOf(this.stats());
  }

  kill(): Member[] {
    return this.signal("SIGKILL");
  }

  dispose(): void {}

  report(): TreeReport {
    return reportOf(this.members(), { pgid: this.pgid });
  }

  identity(): { pgid: number } {
    return { pgid: this.pgid };
  }

  /** Its kill is SIGKILL to each group, which the kernel refuses for a process of another user. */
  killsAll(): boolean {
    return false;
  }

  /**
   * Sends `signal` to each group of the tree that has members (the kernel gives no new process
   * the number of a group that still exists, so one with members is this tree's); returns them.
   */
  signal(signal: NodeJS.Signals): Member[] {
    const members = this.stats();
    for (const pgrp of new Set(members.map((m) => m.pgrp))) {
      try {
        process.kill(-pgrp, signal);
      } catch {
        // ESRCH: the last member exited between the read and the signal.
      }
    }
    return members;
  }
}

/**
 * How long, in real time, a freeze or a thaw waits for the kernel to stop or resume every
 * member before it reports that it did not.
 */
export const SETTLE_MS = 10_000;

/** True when `stats` has processes and none can run: each stopped, or blocked on a stopped child. */
export function frozenOf(stats: Member[]): boolean {
  return (
    stats.length > 0 &&
    stats.every((s) => isStopped(s) || (s.state === "D" && stats.some((c) => c.ppid === s.pid && isStopped(c))))
  );
}
