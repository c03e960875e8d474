// One tree of processes the process driver governs, from its spawn (or its adoption after a
// restart) until its leader's exit is seen: freezing, thawing and ending the whole tree, and
// what an observation of it says. Without /proc the driver cannot see the tree: it signals the
// leader's group blindly and trusts what it last did.

import type { ChildProcess } from "node:child_process";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Json, Observation } from "../../core/types.ts";
import { bootId, isGone, isStopped, pidNamespace, procfs, readStat, until, type ProcStat } from "./proc.ts";
import type { ProcessTree } from "./tree.ts";

export interface Exit {
  exitCode: number | null;
  signal: string | null;
}

/** How often, on the clock, a stop checks whether the rest of the tree has exited. */
const DRAIN_POLL_MS = 100;
/** How many more times SIGKILL goes round a tree that is not yet empty after the first. */
const KILL_ROUNDS = 5;

export class Governed {
  /** A stop Vigil asked for is under way: the exit it causes is not reported to listeners. */
  stopping = false;
  /** Without /proc: whether the driver last suspended it. */
  suspended = false;
  ended = false;
  /** Settles with the leader's exit; rejected when the driver closes first. */
  readonly exited: Promise<Exit>;
  /** The next liveness check of an adopted leader. */
  watch: TimerHandle | null = null;
  /** The SIGKILL of a stop in progress. */
  private kill: TimerHandle | null = null;
  private settleExit: (exit: Exit) => void = () => {};
  private abortExit: (error: Error) => void = () => {};

  constructor(
    /** The leader: the process Vigil spawned, whose pid is also the process group's id. */
    readonly pid: number,
    /** /proc start time, in clock ticks since boot; null without /proc. */
    readonly startTime: number | null,
    /** The ChildProcess when the driver spawned it; null when adopted after a restart. */
    readonly child: ChildProcess | null,
    readonly tree: ProcessTree,
    /** How long the tree gets after SIGTERM before SIGKILL. */
    readonly graceMs: number,
    private readonly clock: Clock,
  ) {
    this.exited = new Promise<Exit>((resolve, reject) => {
      this.settleExit = resolve;
      this.abortExit = reject;
    });
    // Rejected by abort() whether or not a stop awaits it.
    this.exited.catch(() => {});
  }

  /** Records the leader's exit once; false when it was recorded already. */
  settle(exit: Exit): boolean {
    if (this.ended) return false;
    this.ended = true;
    // The watch is done; a stop's SIGKILL stays due, for the rest of the tree.
    if (this.watch) this.clock.clearTimeout(this.watch);
    this.watch = null;
    this.settleExit(exit);
    return true;
  }

  abort(error: Error): void {
    this.clearTimers();
    this.abortExit(error);
  }

  clearTimers(): void {
    if (this.watch) this.clock.clearTimeout(this.watch);
    if (this.kill) this.clock.clearTimeout(this.kill);
    this.watch = this.kill = null;
  }

  /** The leader's state, or null when it is gone or its pid now names another process. */
  state(): ProcStat | null {
    if (!procfs)
      return this.ended ? null : { state: this.suspended ? "T" : "S", ppid: 0, pgrp: this.pid, startTime: 0 };
    const stat = readStat(this.pid);
    if (!stat || isGone(stat) || (this.startTime !== null && stat.startTime !== this.startTime)) return null;
    return stat;
  }

  /** Suspended when the whole tree is frozen (a leader stopped alone leaves its children running). */
  isSuspended(stat: ProcStat): boolean {
    return procfs ? this.tree.frozen() : isStopped(stat);
  }

  /** Stops every process of the tree; true once all are stopped. */
  async freeze(): Promise<boolean> {
    if (procfs) return this.tree.freeze();
    this.signalBlind("SIGSTOP");
    this.suspended = true;
    return true;
  }

  /** Lets every process of the tree run again; true once none is stopped. */
  async thaw(): Promise<boolean> {
    this.suspended = false;
    if (procfs) return this.tree.thaw();
    this.signalBlind("SIGCONT");
    return true;
  }

  /**
   * SIGTERM to the whole tree (thawed, so that a frozen one acts on it), SIGKILL after the
   * grace period on the clock; resolves with the leader's exit once the whole tree is gone.
   */
  async terminate(): Promise<Exit> {
    this.stopping = true;
    this.signal("SIGTERM");
    await this.thaw();
    let killed: () => void = () => {};
    const killedAt = new Promise<void>((resolve) => (killed = resolve));
    this.kill = this.clock.setTimeout(() => {
      this.kill = null;
      if (procfs) this.tree.kill();
      else this.signalBlind("SIGKILL");
      killed();
    }, this.graceMs);
    try {
      const exit = await this.exited;
      if (procfs) await this.drain(killedAt);
      return exit;
    } finally {
      if (this.kill) this.clock.clearTimeout(this.kill);
      this.kill = null;
      this.tree.dispose();
    }
  }

  /** Signals the whole tree, never a group whose leader has since gone to another process. */
  signal(signal: NodeJS.Signals): void {
    if (!procfs) this.signalBlind(signal);
    else if (this.state() || this.tree.members().length > 0) this.tree.signal(signal);
  }

  /** What an observation of the running or suspended tree says. */
  observation(status: "running" | "suspended"): Observation {
    const o: Observation = { status, at: this.clock.now(), pid: this.pid };
    if (this.startTime !== null) o.startTime = this.startTime;
    const boot: Json = bootId();
    if (boot !== null) o.bootId = boot;
    const namespace: Json = pidNamespace();
    if (namespace !== null) o.pidNamespace = namespace;
    if (procfs) Object.assign(o, this.tree.report());
    return o;
  }

  /**
   * The leader is gone and the rest of the tree has its grace period: resolves once the tree
   * is empty, or once `killed` (the grace period's SIGKILL) has emptied it. A process forked
   * while the first SIGTERM went round gets one of its own.
   */
  private async drain(killed: Promise<void>): Promise<void> {
    const empty = () => this.tree.members().length === 0;
    if (await until(empty, 1000)) return;
    this.tree.signal("SIGTERM");
    let poll: TimerHandle | null = null;
    const emptied = new Promise<void>((resolve) => {
      const check = () => {
        poll = null;
        if (empty()) resolve();
        else poll = this.clock.setTimeout(check, DRAIN_POLL_MS);
      };
      check();
    });
    await Promise.race([emptied, killed]);
    if (poll) this.clock.clearTimeout(poll);
    // A process forked while SIGKILL went round the tree (where the tree cannot be killed at
    // once: the v1 freezer, a v2 without cgroup.kill) escaped it: it gets its own, a few times.
    // (One that outlives them all is past what signals do, as one stuck in state D is.)
    if (await until(empty)) return;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      this.tree.kill();
      if (await until(empty, 1000)) return;
    }
  }

  /** Without /proc: the group, as long as the driver has not seen its leader exit. */
  private signalBlind(signal: NodeJS.Signals): void {
    if (this.ended) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: it exited meanwhile; the exit event will say so.
    }
  }
}

/**
 * Ends what is left of trees whose leader exited on its own: SIGTERM now (thawed), SIGKILL
 * after the grace period on the clock. No process runs on that Vigil no longer governs. While
 * an object's leftovers wait for their SIGKILL, its observations list them (`of`), so that a
 * server that crashes meanwhile has them stopped by the next one (ProcessDriver.adopt).
 */
export class Leftovers {
  private readonly pending = new Map<TimerHandle, { tree: ProcessTree; objectId: string }>();

  constructor(private readonly clock: Clock) {}

  /** The trees of `objectId` within their grace period, as its observations list them. */
  of(objectId: string): Json[] {
    const out: Json[] = [];
    for (const p of this.pending.values())
      if (p.objectId === objectId) {
        const recorded: Record<string, Json> = { ...p.tree.identity() };
        const boot = bootId();
        if (boot !== null) recorded.bootId = boot;
        const namespace = pidNamespace();
        if (namespace !== null) recorded.pidNamespace = namespace;
        out.push(recorded);
      }
    return out;
  }

  sweep(tree: ProcessTree, graceMs: number, objectId: string): void {
    if (!procfs) return;
    if (tree.members().length === 0) {
      tree.dispose();
      return;
    }
    tree.signal("SIGTERM");
    void tree.thaw();
    const handle = this.clock.setTimeout(() => {
      this.pending.delete(handle);
      end(tree);
    }, graceMs);
    this.pending.set(handle, { tree, objectId });
  }

  /**
   * The server is closing (no `objectId`), or the object is deleted or rebound: what is still
   * within its grace period gets its SIGKILL now, not whenever the next server adopts its object
   * (after a crash, a deleted or rebound object's observation lists them no more).
   */
  close(objectId?: string): void {
    for (const [handle, p] of this.pending) {
      if (objectId !== undefined && p.objectId !== objectId) continue;
      this.clock.clearTimeout(handle);
      this.pending.delete(handle);
      end(p.tree);
    }
  }
}

/** SIGKILL to what is left of a tree, and its cgroup (if any) removed once it is empty. */
function end(tree: ProcessTree): void {
  tree.kill();
  void until(() => tree.members().length === 0).then(() => tree.dispose());
}
