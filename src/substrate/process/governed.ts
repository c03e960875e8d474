// One tree of processes the process driver governs, from its spawn (or its adoption after a
// restart) until its leader's exit is seen: freezing, thawing and ending the whole tree, and
// what an observation of it says. Without /proc the driver cannot see the tree: it signals the
// leader's group blindly and trusts what it last did.
//
// The file is past 400 lines because a tree's stop and the leftovers of a tree whose leader
// exited are ended the same way (the grace period's SIGKILL on the clock, the exits watched in
// real time, processes known by pid and start time, signals the kernel refuses), and apart
// they would share most of what is here.

import type { ChildProcess } from "node:child_process";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Json, Observation } from "../../core/types.ts";
import { DriverError } from "../driver.ts";
import {
  bootId,
  isStopped,
  liveStat,
  pidNamespace,
  procfs,
  settle,
  trusted,
  watchFor,
  type Member,
  type ProcStat,
} from "./proc.ts";
import { carriesMark } from "./restart.ts";
import type { ProcessTree } from "./tree.ts";

export interface Exit {
  exitCode: number | null;
  signal: string | null;
}

/** How often a stop (in real time) or a sweep of leftovers (on the clock) checks whether a tree has exited. */
const POLL_MS = 100;
/** How long, in real time, a stop first watches the processes it signalled exit. */
const FIRST_WAIT_MS = 1000;
/** How many more times SIGKILL goes round a tree, after the first, to a process the last one missed. */
const KILL_ROUNDS = 5;
/** How long, in real time, the processes a SIGKILL reached are given to exit (from each SIGKILL). */
const KILLED_WITHIN_MS = 10_000;
/** Why a stop under way fails when the driver closes. */
export const CLOSED = "the process driver closed";

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
  /** Why the driver gave the tree up (it closed): a stop under way stops watching and fails. */
  private abortedBy: Error | null = null;
  /** The processes the grace period's SIGKILL reached, by identity (not those that refused it, EPERM). */
  private reached = new Set<string>();
  /** Ends a stop's wait for the grace period (its SIGKILL, or the driver closing). */
  private endWait: () => void = () => {};
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

  /** Whether the leader's exit is recorded within `ms` on the clock (or the driver closes first). */
  exitWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      const done = () => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      this.exited.then(done, done);
    });
  }

  abort(error: Error): void {
    this.abortedBy = error;
    this.clearTimers();
    this.endWait();
    this.abortExit(error);
  }

  clearTimers(): void {
    if (this.watch) this.clock.clearTimeout(this.watch);
    if (this.kill) this.clock.clearTimeout(this.kill);
    this.watch = this.kill = null;
  }

  /** The leader's state, or null when it is gone or its pid now names another process. */
  state(): ProcStat | null {
    if (!procfs) return this.ended ? null : trusted(this.pid, this.suspended);
    return liveStat(this.pid, this.startTime);
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
   * grace period on the clock; resolves with the leader's exit once the whole tree is gone, and
   * rejects with the driver's error when it closes first (the tree is left to the next server).
   */
  async terminate(): Promise<Exit> {
    this.stopping = true;
    const signalled = this.signal("SIGTERM");
    await this.thaw();
    const killedAt = new Promise<void>((resolve) => (this.endWait = resolve));
    this.kill = this.clock.setTimeout(() => {
      this.kill = null;
      if (procfs) this.reached = reachedBy(this.tree, this.tree.kill());
      else this.signalBlind("SIGKILL");
      this.endWait();
    }, this.graceMs);
    try {
      // A leader this server may not signal never exits of its SIGKILL: that is known once it is sent.
      const exit = await Promise.race([this.exited, killedAt.then(() => this.exitUnlessRefused())]);
      const left = procfs ? await this.drain(killedAt, signalled) : [];
      if (this.abortedBy) throw this.abortedBy;
      const refused = this.refusal(procfs ? this.tree.stats() : []);
      if (refused) throw refused;
      // What the SIGKILL reached that outlasted the wait for its exit (stuck in `D`) is still there:
      // the stop is not confirmed, and the next one sends it SIGKILL again (stopRefused).
      const stuck = left === null ? this.stuck() : [];
      if (stuck.length > 0) throw new StuckStop(this.pid, stuck);
      return exit;
    } finally {
      if (this.kill) this.clock.clearTimeout(this.kill);
      this.kill = null;
      this.tree.dispose();
    }
  }

  /** The leader's exit, unless it runs and refuses signals: then the stop fails. */
  private async exitUnlessRefused(): Promise<Exit> {
    const stat = this.ended || this.abortedBy ? null : this.state();
    if (stat && this.refuses(this.pid)) {
      // Read again: the leader may have exited since (then its exit is awaited as any other).
      const refused = this.refusal(procfs ? this.tree.stats() : [{ pid: this.pid, startTime: stat.startTime }]);
      if (refused) throw refused;
    }
    // A leader the SIGKILL reached gets KILLED_WITHIN_MS of real time to exit, as the rest of the
    // tree does: one still there then (stuck in `D`) fails the stop, retryable, and the object's
    // turn is not held for ever; the next stop finds it live and stops the tree again.
    const gone = () => this.ended || this.abortedBy !== null || this.state() === null;
    if (procfs && !(await watchFor(gone, KILLED_WITHIN_MS))) {
      this.stopping = false;
      throw new StuckStop(this.pid, this.stuck());
    }
    return this.exited;
  }

  /** The processes of the tree a stop's SIGKILL reached that are still there (not those that refuse it). */
  private stuck(): Known[] {
    return this.tree
      .stats()
      .filter((m) => !this.refuses(m.pid))
      .map(known);
  }

  /**
   * The failure of a stop for the processes of `members` that refuse signals, looked at once, or
   * null when none does (any that refused a moment ago has exited since): a stop never fails
   * naming no process. Once it fails, an exit of the leader is its own again.
   */
  private refusal(members: Known[]): RefusedStop | null {
    const refusing = members.filter((m) => this.refuses(m.pid));
    if (refusing.length === 0) return null;
    this.stopping = false;
    return new RefusedStop(this.pid, refusing);
  }

  /**
   * Whether the kernel refuses the stop's SIGKILL to `pid` (EPERM). Never where the tree is
   * killed by its cgroup (cgroup.kill): that ends a process of another user too, only it may
   * take a while to exit (one with much memory to free), and is waited for as any other.
   */
  private refuses(pid: number): boolean {
    return !this.tree.killsAll() && refuses(pid);
  }

  /** Signals the whole tree; returns the processes it went to (none known without /proc). */
  signal(signal: NodeJS.Signals): Member[] {
    if (procfs) return this.tree.signal(signal);
    this.signalBlind(signal);
    return [];
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
   * is empty, or once `killed` (the grace period's SIGKILL) has emptied it, or at once when the
   * driver closes (`killed` resolves then too). `signalled` is the tree the SIGTERM went to: a
   * process forked meanwhile, which it did not reach, gets one of its own, and those it reached
   * are not signalled twice. Watching for the
   * exits is in real time (the kernel ends processes in real time; only the grace period is on
   * the clock): first only the signalled processes' own /proc entries, every few milliseconds
   * for up to FIRST_WAIT_MS (a tree usually exits within it), then the whole tree every POLL_MS.
   * What is left (killRounds), or null when what the SIGKILL reached outlasted the wait for it.
   */
  private async drain(killed: Promise<void>, signalled: Member[]): Promise<Member[] | null> {
    const aborted = () => this.abortedBy !== null;
    const empty = () => this.tree.members().length === 0;
    const exited = () => signalled.every((m) => liveStat(m.pid, m.startTime) === null);
    if ((await watchFor(() => aborted() || exited(), FIRST_WAIT_MS)) && (aborted() || empty())) return [];
    const termed = identitiesOf(signalled);
    for (const m of this.tree.stats()) if (!termed.has(identityOf(m))) signalPid(m.pid, "SIGTERM");
    let done = false;
    await Promise.race([watchFor(() => done || aborted() || empty(), Infinity, POLL_MS), killed]);
    done = true;
    if (aborted()) return [];
    // What the SIGKILL reached is exiting (a process with much memory takes a while to free
    // it). A process forked while it went round the tree (where the tree cannot be killed at
    // once: the v1 freezer, a v2 without cgroup.kill) escaped it, and gets its own, a few times.
    // (One that outlives KILLED_WITHIN_MS is past what signals do, as one stuck in state D is:
    // the stop fails, retryable, for it.) One that refused it (EPERM) was not reached: should it
    // stop refusing (a setuid helper switching users), it has escaped it too. Those that still
    // refuse it are not waited for: the stop fails for them.
    return killRounds(this.tree, this.reached, aborted);
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
 * after the grace period on the clock, unless they are gone by then (checked every POLL_MS). No
 * process runs on that Vigil no longer governs. While an object's leftovers are being stopped,
 * its observations list them (`of`), so that a server that crashes meanwhile has them stopped by
 * the next one (ProcessDriver.adopt).
 *
 * A process group's number is free again once the group is empty, and a new process may take
 * it. A group is taken for the same one only while a process seen in it at the last check (pid
 * and start time) is still in it, or one of its processes carries the object's mark (stillOurs):
 * one found empty, or holding only other programs' processes, is done with and never signalled
 * again. What is left after the SIGKILL that refuses this server's signals (EPERM) stays known
 * while it runs: listed (`of`), and a stop fails for it (`stopRefused`).
 */
export class Leftovers {
  private readonly pending = new Set<Leftover>();
  /** Those sent their SIGKILL, until they are empty. */
  private readonly ending = new Set<Leftover>();
  /** Those whose processes left after the SIGKILL all refuse this server's signals (EPERM), while they run. */
  private readonly refusing = new Set<Leftover>();

  /** The server is closing (close() without an object): the waits for what a SIGKILL reached end. */
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /**
   * The trees of `objectId` still being stopped, as its observations list them: within their grace
   * period, sent their SIGKILL and not yet exited of it (read now: the wait for their exit sees it
   * a moment later; not those of an object deleted or rebound meanwhile), and those that refused
   * it or outlasted the wait for their exit.
   */
  of(objectId: string): Json[] {
    const out: Json[] = [];
    const killing = [...this.ending].filter(
      (l) => l.objectId === objectId && !l.dropped && l.tree.members().length > 0,
    );
    for (const l of [...this.pending, ...killing, ...this.stillRefusing(objectId)])
      if (l.objectId === objectId) {
        const recorded: Record<string, Json> = { ...l.tree.identity() };
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
    const seen = identitiesOf(tree.signal("SIGTERM"));
    if (seen.size === 0) {
      tree.dispose();
      return;
    }
    void tree.thaw();
    let resolve: () => void = () => {};
    const l: Leftover = {
      tree,
      objectId,
      seen,
      timers: [],
      refused: [],
      done: new Promise<void>((r) => (resolve = r)),
      resolve: () => resolve(),
    };
    const check = () => {
      if (!this.pending.has(l)) return;
      if (this.stillOurs(l)) l.timers[0] = this.clock.setTimeout(check, POLL_MS);
      else {
        this.forget(l);
        l.resolve();
      }
    };
    l.timers = [this.clock.setTimeout(check, POLL_MS), this.clock.setTimeout(() => this.end(l), graceMs)];
    this.pending.add(l);
  }

  /** Resolves once every tree of `objectId` being stopped is gone (or, past its grace, killed). */
  async settled(objectId: string): Promise<void> {
    const trees = [...this.pending, ...this.ending].filter((l) => l.objectId === objectId);
    await Promise.all(trees.map((l) => l.done));
  }

  /**
   * The server is closing (no `objectId`), or the object is deleted or rebound: what is still
   * within its grace period gets its SIGKILL now, not whenever the next server adopts its object
   * (after a crash, a deleted or rebound object's observation lists them no more).
   */
  close(objectId?: string): void {
    if (objectId === undefined) this.closed = true;
    for (const l of this.pending) if (objectId === undefined || l.objectId === objectId) this.end(l);
  }

  /**
   * The object is deleted or rebound: what of it refused its SIGKILL is nobody's business here
   * now, and nor is what of it is still being killed (once its kill is over, it is not kept).
   */
  drop(objectId: string): void {
    for (const l of this.stillRefusing(objectId)) this.refusing.delete(l);
    for (const l of this.ending) if (l.objectId === objectId) l.dropped = true;
  }

  /**
   * What is left of the object's trees that refused their SIGKILL, stopped again: SIGKILL to each
   * process that no longer refuses it, and to every other process of those trees this server may
   * signal (forked since by one that refuses), in every tree, each waited for until what it
   * reached has exited; then one RefusedStop (as a stop's) naming those of all the trees that
   * still refuse, or, none refusing, one StuckStop naming those of all the trees that have not
   * exited of their SIGKILL.
   */
  async stopRefused(objectId: string): Promise<void> {
    const leaders: number[] = [];
    const still: Known[] = [];
    const stuckLeaders: number[] = [];
    const stuck: Known[] = [];
    for (const l of this.stillRefusing(objectId)) {
      const id = l.tree.identity();
      try {
        await stopRefused("pgid" in id ? id.pgid : null, l.refused, l.tree, l.objectId, () => this.closed);
        this.refusing.delete(l);
      } catch (e) {
        // Those that have not exited of their SIGKILL are tried again at the next stop.
        if (e instanceof StuckStop) {
          l.refused = e.stuck;
          stuckLeaders.push(...e.leaders);
          stuck.push(...e.stuck);
          continue;
        }
        if (!(e instanceof RefusedStop)) throw e;
        l.refused = e.refused;
        leaders.push(...e.leaders);
        still.push(...e.refused);
      }
    }
    if (still.length > 0) throw new RefusedStop(leaders, still);
    // One failure naming every tree whose processes outlasted their SIGKILL, not the first alone.
    if (stuck.length > 0) throw new StuckStop(stuckLeaders, stuck);
  }

  /**
   * What a stop could not end of an earlier tree of the object (RefusedStop, its leader gone), once
   * another is spawned: kept as leftovers that refused their SIGKILL, listed and stopped as those.
   */
  refusedBy(tree: ProcessTree, objectId: string, refused: Known[]): void {
    this.refusing.add({
      tree,
      objectId,
      seen: new Set(),
      timers: [],
      refused,
      done: Promise.resolve(),
      resolve: () => {},
    });
  }

  /**
   * The object's leftovers that refused their SIGKILL and still run, or whose tree, those gone,
   * is still the object's (stillObjects: they forked others before they exited); those done with
   * are dropped.
   */
  private stillRefusing(objectId: string): Leftover[] {
    const out: Leftover[] = [];
    for (const l of this.refusing) {
      if (l.objectId !== objectId) continue;
      l.refused = l.refused.filter((m) => liveStat(m.pid, m.startTime) !== null);
      if (l.refused.length > 0 || stillObjects(l.tree, objectId)) out.push(l);
      else {
        this.refusing.delete(l);
        l.tree.dispose();
      }
    }
    return out;
  }

  /**
   * SIGKILL to what is left of the tree, if it is still the one seen; done once it is empty, or
   * once all that is left refuses this server's signals (EPERM): those stay known (listed, and a
   * later stop fails for them) while they run.
   */
  private end(l: Leftover): void {
    if (!this.pending.has(l)) return;
    const ours = this.stillOurs(l);
    this.forget(l);
    if (!ours) return l.resolve();
    this.ending.add(l);
    void this.killed(l).then((left) => {
      this.ending.delete(l);
      // Nothing refuses the kernel's own kill of a cgroup (cgroup.kill): what is left is exiting.
      // Past the wait (another process of the tree outlasted it, as one in state D does), those
      // that refuse are read again: they run on, and stay known as when they were all that is left;
      // so do those that outlasted it, which a stop sends SIGKILL again (stopRefused: StuckStop).
      const refusing = l.tree.killsAll() ? [] : (left ?? l.tree.stats()).filter((m) => refuses(m.pid));
      const stuck = left === null ? l.tree.stats().filter((m) => !refusing.some((r) => r.pid === m.pid)) : [];
      if (refusing.length + stuck.length > 0 && !l.dropped) {
        l.refused = [...refusing, ...stuck].map(known);
        this.refusing.add(l);
      } else l.tree.dispose();
      l.resolve();
    });
  }

  /**
   * SIGKILL to what is left of `l`, and what is left of it once that has done its work: the
   * tree empty, or all of it refusing this server's signals; null when what it reached outlasts
   * KILLED_WITHIN_MS. A process it did not reach (forked after it went round, by one that
   * refused it or while it went round; or one that refused it and no longer does, as a setuid
   * helper between its fork and its switch of user) gets another, up to KILL_ROUNDS more, as in
   * a stop: past them it is what is left.
   */
  private killed(l: Leftover): Promise<Member[] | null> {
    // Given up when the server closes (close() sends it then), as a stop's wait is: a stop waiting
    // for the object's leftovers (settled) must not hold a server shutting down.
    return killRounds(l.tree, reachedBy(l.tree, l.tree.kill()), () => this.closed);
  }

  private forget(l: Leftover): void {
    for (const t of l.timers) this.clock.clearTimeout(t);
    this.pending.delete(l);
  }

  /**
   * Whether the tree still has processes, and (a process group) is still the object's: one of
   * those seen last time is in it, or one carries the object's mark (a process started between
   * two checks by one that has since exited: a SIGTERM handler's helper) while no process has the
   * group's own number as its pid (the leader is gone: such a process leads a new group that
   * took the number). Updates `seen`.
   */
  private stillOurs(l: Leftover): boolean {
    const now = identities(l.tree);
    const ours = now.size > 0 && ([...now].some((x) => l.seen.has(x)) || stillObjects(l.tree, l.objectId));
    if (!ours && now.size === 0) l.tree.dispose();
    l.seen = now;
    return ours;
  }
}

interface Leftover {
  tree: ProcessTree;
  objectId: string;
  /** `pid:startTime` of each process in the tree at the last check. */
  seen: Set<string>;
  /** The next check, and the SIGKILL at the end of the grace period. */
  timers: TimerHandle[];
  /** The processes left that refused the SIGKILL (EPERM), by pid and start time. */
  refused: Known[];
  /** The object was deleted or rebound while its kill was under way (drop): it is not kept. */
  dropped?: boolean;
  /** Settles once the tree is done with (`resolve`). */
  done: Promise<void>;
  resolve: () => void;
}

/** Whether the kernel refuses this server's signals to `pid` (EPERM); false once it is gone. */
export function refuses(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A process known by its pid and start time (null where there is no /proc), so that a reused pid is not taken for it. */
export interface Known {
  pid: number;
  startTime: number | null;
}

/**
 * A stop that cannot end the tree: the kernel refuses this server's signals to `refused` (EPERM:
 * processes running as another user, a setuid program). Final, as a spawn's EACCES is.
 */
export class RefusedStop extends DriverError {
  /** The leader of each tree it names. */
  readonly leaders: number[];

  constructor(
    /** The tree's leader, or the leaders (the groups) of several trees (an object's leftovers). */
    leader: number | number[],
    readonly refused: Known[],
  ) {
    const leaders = typeof leader === "number" ? [leader] : leader;
    const trees = leaders.length === 1 ? `process tree of ${leaders[0]}` : `process trees of ${leaders.join(", ")}`;
    const one = refused.length === 1;
    const which = one ? `process ${refused[0]!.pid}` : `processes ${refused.map((m) => m.pid).join(", ")}`;
    super(
      `cannot stop the ${trees}: ${which} of ${leaders.length === 1 ? "it" : "them"} still run${one ? "s" : ""}, and refuse${one ? "s" : ""} this server's signals (EPERM)`,
      false,
    );
    this.leaders = leaders;
  }

  /** One failure naming the trees and processes of both. */
  static joined(a: RefusedStop, b: RefusedStop): RefusedStop {
    return new RefusedStop([...a.leaders, ...b.leaders], [...a.refused, ...b.refused]);
  }
}

/**
 * A stop whose SIGKILL reached processes of the tree that have not exited KILLED_WITHIN_MS after
 * it (stuck in state D): not confirmed while they are there. Retryable: the next stop sends them
 * SIGKILL again (stopRefused), and is confirmed once they have exited.
 */
export class StuckStop extends DriverError {
  /** The leader of each tree it names. */
  readonly leaders: number[];

  constructor(
    /** The tree's leader, or the leaders (the groups) of several trees (an object's leftovers). */
    leader: number | number[],
    readonly stuck: Known[],
  ) {
    const leaders = typeof leader === "number" ? [leader] : leader;
    const trees = leaders.length === 1 ? `process tree of ${leaders[0]}` : `process trees of ${leaders.join(", ")}`;
    const one = stuck.length === 1;
    const which = one ? `process ${stuck[0]!.pid}` : `processes ${stuck.map((m) => m.pid).join(", ")}`;
    super(
      `cannot confirm the stop of the ${trees}: ${which} of ${leaders.length === 1 ? "it" : "them"} ${one ? "has" : "have"} not exited ${KILLED_WITHIN_MS / 1000} s after ${one ? "its" : "their"} SIGKILL`,
      true,
    );
    this.leaders = leaders;
  }

  /** One failure naming the trees and processes of both. */
  static joined(a: StuckStop, b: StuckStop): StuckStop {
    return new StuckStop([...a.leaders, ...b.leaders], [...a.stuck, ...b.stuck]);
  }
}

/**
 * What a stop that failed as RefusedStop left, stopped again: SIGKILL to each still running (its
 * pid and start time) that no longer refuses it, and to every other process of `tree` that this
 * server may signal (one the refusing processes forked since, as a loop restarting its worker
 * does: what can be ended is ended at each stop); a RefusedStop for those that still refuse,
 * named after `leader` (or, null, the first of them). When none does, the stop waits for what it
 * reached to exit, as after a stop's SIGKILL (killRounds: a process with much memory takes a
 * while to free it), before the tree is done with (disposed of). That wait ends at once when
 * `closed` holds (the driver closed): the stop fails then, retryable, as a stop's under way does,
 * and the tree is left to the next server.
 */
export async function stopRefused(
  leader: number | null,
  refused: Known[],
  tree: ProcessTree,
  objectId: string,
  closed: () => boolean = () => false,
): Promise<void> {
  const left = refused.filter((m) => liveStat(m.pid, m.startTime) !== null);
  const killed = left.filter((m) => !refuses(m.pid));
  // Only while it is the same tree: a refusing process is still in it, or, those gone (exited
  // after forking others: a root loop's worker), one of its processes carries the object's mark
  // (stillObjects); not a group whose number another program took since. Judged before the
  // SIGKILLs below: one that no longer refuses may be gone a moment after its own, and the rest
  // of the tree (a process that cleared its environment, carrying no mark) was then left running.
  const same = (m: Member) => left.some((k) => k.pid === m.pid && (k.startTime ?? m.startTime) === m.startTime);
  const ours = tree.stats().some(same) || stillObjects(tree, objectId);
  for (const m of killed) signalPid(m.pid, "SIGKILL");
  const reached = ours ? reachedBy(tree, tree.kill()) : null;
  // Those known that still refuse, and any other process of the tree that does.
  const still = () => {
    const out = left.filter((m) => refuses(m.pid));
    if (ours && !tree.killsAll())
      for (const m of tree.stats())
        if (!out.some((k) => k.pid === m.pid) && refuses(m.pid)) out.push({ pid: m.pid, startTime: m.startTime });
    return out;
  };
  // Those that still refuse fail the stop whatever the rest does: it is not waited for.
  let outlasted = false;
  if (still().length === 0) {
    const left = reached ? await killRounds(tree, reached, closed) : [];
    const exited = () => killed.every((m) => liveStat(m.pid, m.startTime) === null);
    outlasted = left === null || !(await watchFor(() => closed() || exited(), KILLED_WITHIN_MS));
    if (closed()) throw new DriverError(CLOSED, true);
  }
  const refusing = still();
  if (refusing.length > 0) throw new RefusedStop(leader ?? refusing[0]!.pid, refusing);
  // What the SIGKILL reached that outlasted the wait (stuck in `D`): the stop fails again, retryable.
  if (outlasted) {
    const stuck = killed.filter((m) => liveStat(m.pid, m.startTime) !== null);
    if (ours)
      for (const m of tree.stats()) if (!stuck.some((k) => k.pid === m.pid) && !refuses(m.pid)) stuck.push(known(m));
    if (stuck.length > 0) throw new StuckStop(leader ?? stuck[0]!.pid, stuck);
  }
  tree.dispose();
}

/**
 * Whether `tree` has processes and is still `objectId`'s, though none known in it may be left: a
 * cgroup is Vigil's own, whatever is in it; a process group is while one of its processes carries
 * the object's mark and none has the group's own number as its pid (the leader is gone: such a
 * process leads a new group that took the number).
 */
function stillObjects(tree: ProcessTree, objectId: string): boolean {
  const members = tree.members();
  const id = tree.identity();
  return members.length > 0 && (!("pgid" in id) || (!members.includes(id.pgid) && carriesMark(tree, objectId)));
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: it exited meanwhile.
  }
}

/**
 * What follows a SIGKILL of `tree` that reached the processes `reached` (by identity): a wait,
 * within KILLED_WITHIN_MS, until the tree is empty, or all of it refuses this server's signals
 * (EPERM), or a process no SIGKILL reached is in it (forked while one went round, by one that
 * refused it, or one that refused it and no longer does: a setuid helper switching users),
 * which gets another, up to KILL_ROUNDS more; `stop` ends it early. What is left, or null when
 * what was reached outlasts the wait (as one stuck in state D does). A stop's and the leftovers'.
 */
async function killRounds(tree: ProcessTree, reached: Set<string>, stop = () => false): Promise<Member[] | null> {
  const refusing = (m: Member) => !tree.killsAll() && refuses(m.pid);
  const allRefuse = (s: Member[]) => s.length > 0 && s.every(refusing);
  const missed = (m: Member) => !reached.has(identityOf(m)) && !refusing(m);
  for (let round = 0; ; round++) {
    const left = await settle(
      () => tree.stats(),
      (s) => stop() || s.length === 0 || allRefuse(s) || s.some(missed),
      KILLED_WITHIN_MS,
    );
    if (left === null || left.length === 0 || allRefuse(left) || stop() || round === KILL_ROUNDS) return left;
    reachedBy(tree, tree.kill(), reached);
  }
}

/** Adds to `into` the identities of `members` a SIGKILL just went to that it reached (not those that refused it). */
function reachedBy(tree: ProcessTree, members: Member[], into = new Set<string>()): Set<string> {
  for (const m of members) if (tree.killsAll() || !refuses(m.pid)) into.add(identityOf(m));
  return into;
}

/** `pid:startTime` of each live process of the tree: a pid reused by another process is another identity. */
function identities(tree: ProcessTree): Set<string> {
  return identitiesOf(tree.stats());
}

function identitiesOf(members: Member[]): Set<string> {
  return new Set(members.map(identityOf));
}

const identityOf = (m: Member): string => `${m.pid}:${m.startTime}`;

const known = (m: Member): Known => ({ pid: m.pid, startTime: m.startTime });
