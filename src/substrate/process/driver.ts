// The process substrate: each object's compute is a tree of OS processes on this machine,
// led by the command Vigil spawns in a session and process group of its own (or, with
// VIGIL_PROCESS_CGROUP, held in a cgroup of its own). start spawns it or thaws it, suspend
// freezes every process of the tree (same pids, memory resident), stop is SIGTERM to the whole
// tree then SIGKILL after the grace period. Linux /proc verifies states and lets a restarted
// server re-adopt the trees it left running; without /proc the driver trusts its own table,
// signals the group blindly and adopts nothing.
//
// The file is past 400 lines because every command of the driver is here, each in the object's
// turn and each knowing what the others leave behind (a live tree, its last exit, leftovers,
// what a stop could not end); the trees themselves are in governed.ts, tree.ts and cgroup.ts.

import type { ChildProcess } from "node:child_process";
import type { Clock } from "../../core/clock.ts";
import type { Problem } from "../../core/errors.ts";
import { KeyedQueue } from "../../core/keyed-queue.ts";
import type { JsonObject, Observation } from "../../core/types.ts";
import { zodProblems } from "../../contracts/problems.ts";
import { DriverError, type Driver, type DriverTarget, type ObservationListener, type Release } from "../driver.ts";
import { cgroupDir, CgroupTree, sweepEmptyCgroups, type CgroupParent } from "./cgroup.ts";
import {
  DEFAULT_GRACE_MS,
  processConfigFields,
  processConfigSchema,
  shellEnvProblems,
  type ProcessConfig,
} from "./config.ts";
import { CLOSED, Governed, Leftovers, RefusedStop, StuckStop, stopRefused, type Exit } from "./governed.ts";
import { recordedLeftovers, recordedTree, unrecordedTree } from "./restart.ts";
import { procfs, readStat, until, type ProcStat } from "./proc.ts";
import { spawnProcess } from "./spawn.ts";
import { ProcessGroupTree } from "./tree.ts";

/** How long, on the clock, a child /proc shows exited (not yet reaped) is given for its exit event. */
const EXIT_EVENT_MS = 10_000;

export interface ProcessDriverOptions {
  clock: Clock;
  /**
   * How often, on the clock, an adopted process is checked for life (default 1000). It is not
   * this server's child, so its exit cannot be waited on.
   */
  watchMs?: number;
  /** Hold each object's tree in a cgroup of its own under this parent (VIGIL_PROCESS_CGROUP). */
  cgroup?: CgroupParent | null;
}

/**
 * Observations carry `status` and `at`, and: while the tree lives, the leader's `pid`,
 * `startTime`, `bootId` and `pidNamespace`, its `pgid` (or `cgroup`), and `processes` (each live pid of the
 * tree with its resident memory) and `rssBytes` (their sum: what dormancy keeps resident); once
 * the leader has exited, `pid`, `exitCode` and `signal` (both null for an adopted process,
 * whose exit status goes to its original parent); `reason` on an exit Vigil did not ask for
 * (`exited`) and on adoption (`adopted after restart`, `not running after restart`); and
 * `leftovers` while what is left of earlier trees of the object (each `{ pgid }` or `{ cgroup }`,
 * with `bootId` and `pidNamespace`) waits out its grace period, or the exit its SIGKILL causes.
 *
 * close() does not stop governed processes: a server restarting must not take governed compute
 * down. What is left of a tree whose leader exited on its own, and that is still within its
 * grace period, is killed then (Leftovers.close), not left to the next server.
 */
export class ProcessDriver implements Driver {
  readonly name = "process";
  readonly canSuspend = true;
  private readonly clock: Clock;
  private readonly watchMs: number;
  private readonly cgroup: CgroupParent | null;
  private readonly live = new Map<string, Governed>();
  /** Trees a stop is ending (no longer live once their leader exits): close() gives them up too. */
  private readonly stopping = new Set<Governed>();
  private readonly lastExit = new Map<string, Exit & { pid: number }>();
  /** Processes a stop could not end (RefusedStop, StuckStop) once their leader was gone: the next stop tries again. */
  private readonly refused = new Map<
    string,
    { leader: number; members: RefusedStop["refused"]; tree: Governed["tree"] }
  >();
  /** Commands for one object run one after another: no two spawns, no stop racing a start. */
  private readonly queue = new KeyedQueue();
  private readonly leftovers: Leftovers;
  private readonly listeners: ObservationListener[] = [];
  private closed = false;
  /** Ends the periodic removal of objects' cgroups left empty (a kept tree's, once it ended). */
  private readonly stopSweep: () => void;

  constructor(options: ProcessDriverOptions) {
    this.clock = options.clock;
    this.watchMs = options.watchMs ?? 1000;
    this.cgroup = options.cgroup ?? null;
    this.leftovers = new Leftovers(this.clock);
    this.stopSweep = this.cgroup ? sweepEmptyCgroups(this.cgroup, this.clock) : () => {};
  }

  validateConfig(config: unknown): Problem[] {
    return this.checked(config).problems;
  }

  /** The config as the schema reads it, and its problems: the schema's, then the cgroup mode's. */
  private checked(config: unknown): { data?: ProcessConfig; problems: Problem[] } {
    const r = processConfigSchema.safeParse(config ?? {});
    if (!r.success) return { problems: zodProblems(r.error) };
    return { data: r.data, problems: this.cgroup ? shellEnvProblems(r.data.env) : [] };
  }

  canonicalConfig(config: JsonObject): JsonObject {
    const r = processConfigSchema.safeParse(config);
    if (!r.success) return config;
    // No arguments or no variables spelled out are the same child as none given.
    const { args, env, ...rest } = r.data;
    return {
      ...rest,
      ...(args && args.length > 0 ? { args } : {}),
      ...(env && Object.keys(env).length > 0 ? { env } : {}),
    } as JsonObject;
  }

  /** Spawns the tree, or thaws it when any of it is stopped; a running one is left as it is. */
  start(t: DriverTarget): Promise<Observation> {
    return this.observing(t.objectId, async () => {
      const config = this.config(t);
      const p = this.live.get(t.objectId);
      if (p && (await this.alive(t.objectId, p))) {
        if (!(await p.thaw())) throw new DriverError(`process tree of ${p.pid} did not resume`, true);
        return p.observation("running");
      }
      const spawned = await this.spawn(t.objectId, config, t.action);
      // It may have exited already (a command that ends at once): its exit is recorded.
      return this.live.get(t.objectId) === spawned ? spawned.observation("running") : this.stopped(t.objectId);
    });
  }

  /** Freezes every process of the tree, confirmed by /proc (or the cgroup). Nothing running: stopped. */
  suspend(t: DriverTarget): Promise<Observation> {
    return this.observing(t.objectId, async () => {
      const p = this.live.get(t.objectId);
      const stat = p && (await this.alive(t.objectId, p));
      if (!p || !stat) return this.stopped(t.objectId);
      if (p.isSuspended(stat)) return p.observation("suspended");
      const frozen = await p.freeze();
      if (!(await this.alive(t.objectId, p))) return this.stopped(t.objectId);
      if (!frozen) throw new DriverError(`process tree of ${p.pid} did not stop`, true);
      return p.observation("suspended");
    });
  }

  /**
   * SIGTERM to the whole tree, SIGKILL after `graceMs` on the clock; resolves when the tree is
   * gone, and what is left of the object's earlier trees too (a stop sent again after a crash
   * in the middle of one finds no live tree, only its leftovers), and what is left of a tree
   * whose leader exited just before it (the exit event, come during the stop, made it leftovers).
   */
  stop(t: DriverTarget): Promise<Observation> {
    return this.observing(t.objectId, async () => {
      const settled = () => this.leftovers.settled(t.objectId);
      const { leftovers: _listed, ...stopped } = await this.refusedWithLeftovers(t.objectId, this.stopNow(t), settled);
      return stopped;
    });
  }

  /**
   * `stopping` (a stop of the tree), then what is left of the object's earlier trees that refused
   * their SIGKILL (EPERM) or outlasted it, once `settled` (asked once the stop is over), stopped
   * again: the stop fails for those that still refuse or are still there, and when the tree's own
   * stop failed so too (RefusedStop, StuckStop), one failure names them all; a refusal, final,
   * wins over processes stuck, as among the leftovers (Leftovers.stopRefused).
   */
  private async refusedWithLeftovers<T>(
    objectId: string,
    stopping: Promise<T>,
    settled: () => Promise<void>,
  ): Promise<T> {
    let result: T;
    try {
      result = await stopping;
    } catch (e) {
      if (!(e instanceof RefusedStop || e instanceof StuckStop)) throw e;
      await settled();
      try {
        await this.leftovers.stopRefused(objectId);
      } catch (l) {
        if (e instanceof RefusedStop && l instanceof RefusedStop) throw RefusedStop.joined(e, l);
        if (e instanceof StuckStop && l instanceof StuckStop) throw StuckStop.joined(e, l);
        if (!(l instanceof StuckStop)) throw l;
      }
      throw e;
    }
    await settled();
    // The driver closed while the leftovers were being killed: their wait was given up, not done.
    if (this.closed) throw new DriverError(CLOSED, true);
    await this.leftovers.stopRefused(objectId);
    return result;
  }

  async observe(t: DriverTarget): Promise<Observation> {
    const p = this.live.get(t.objectId);
    if (!p) return this.stopped(t.objectId);
    const stat = p.state();
    if (!stat) {
      // Gone from /proc. A child's exit event, on its way, records its exit (and has what is
      // left of its tree stopped): it is waited for, as a stop does, so that the answer has the
      // exit and lists those leftovers, not a bare `stopped` while the rest of the tree runs. An
      // adopted leader has none: its exit is recorded here, where the caller learns of it, and
      // not reported to the listeners as well (one exit evaluated twice, as a later start or the
      // watch found it).
      if (p.child) {
        await this.alive(t.objectId, p);
        return this.stopped(t.objectId);
      }
      this.ended(t.objectId, p, { exitCode: null, signal: null }, false);
      return this.stopped(t.objectId);
    }
    return this.noting(t.objectId, p.observation(p.isSuspended(stat) ? "suspended" : "running"));
  }

  /**
   * After a server restart: takes the tree of `last` (the observation stored before the
   * restart) back under governance when its leader still runs, i.e. when /proc shows that pid
   * with the same start time in the same boot and pid namespace, and watches it for exit every
   * `watchMs`. A pid now reused by another process is left alone, and so is everything of a
   * tree recorded in another boot or namespace (a restarted container numbers pids afresh).
   * When the leader is gone but processes of its group (or cgroup) are left, they are Vigil's
   * leftovers, and they are stopped: the kernel gives no new process the id of a group that
   * still has members.
   */
  adopt(t: DriverTarget, last: Observation | null, starts: string[] = []): Promise<Observation> {
    return this.observing(t.objectId, async () => {
      if (this.live.has(t.objectId)) return this.observe(t);
      for (const tree of recordedLeftovers(t.objectId, last)) this.leftovers.sweep(tree, this.graceOf(t), t.objectId);
      const recorded = this.adoptRecorded(t, last);
      return this.live.has(t.objectId) ? recorded : (this.adoptUnrecorded(t, starts) ?? recorded);
    });
  }

  /**
   * adopt's when no recorded tree runs: the tree one of the object's pending `starts` spawned
   * before the restart, never recorded (restart.ts), taken back as its compute; the start, sent
   * again, finds it running. Nothing is signalled: a tree whose leader died is not found.
   */
  private adoptUnrecorded(t: DriverTarget, starts: string[]): Observation | null {
    const found = unrecordedTree(t.objectId, starts, this.cgroup);
    if (!found) return null;
    const { pid, stat } = found.leader;
    return this.takeBack(
      t.objectId,
      new Governed(pid, stat.startTime, null, found.tree, this.graceOf(t), this.clock),
      stat,
    );
  }

  /** `p`, found running after a restart, governed again and watched for its exit. */
  private takeBack(objectId: string, p: Governed, stat: ProcStat): Observation {
    this.live.set(objectId, p);
    this.watch(objectId, p);
    return { ...p.observation(p.isSuspended(stat) ? "suspended" : "running"), reason: "adopted after restart" };
  }

  /** adopt's: the tree `last` records, taken back when its leader still runs (restart.ts). */
  private adoptRecorded(t: DriverTarget, last: Observation | null): Observation {
    const found = recordedTree(t.objectId, last);
    if ("running" in found) {
      const { pid, stat, tree } = found.running;
      return this.takeBack(
        t.objectId,
        new Governed(pid, stat.startTime, null, tree, this.graceOf(t), this.clock),
        stat,
      );
    }
    if (found.sweep) this.leftovers.sweep(found.sweep, this.graceOf(t), t.objectId);
    return { status: "stopped", at: this.clock.now(), reason: "not running after restart" };
  }

  /**
   * The object is deleted or rebound (another driver or another config): with `stop` its tree
   * is stopped first; with `keep` it is thawed and left running. Either way the driver forgets
   * it: its table entry and its last exit. What is left of its earlier trees gets its SIGKILL.
   */
  release(t: DriverTarget, mode: Release): Promise<void> {
    // At once, not in the object's turn: a stop there may be waiting for these very leftovers.
    this.leftovers.close(t.objectId);
    return this.serial(t.objectId, async () => {
      const p = this.live.get(t.objectId);
      if (mode === "stop") {
        // Leftovers still being killed (above, or those of a leader the stop finds gone) are
        // waited for, as a stop does, so that those that refuse their SIGKILL fail the release.
        const stopping = this.stopNow(t);
        const settled = stopping.then(
          () => this.closedLeftovers(t.objectId),
          () => this.closedLeftovers(t.objectId),
        );
        await this.refusedWithLeftovers(t.objectId, stopping, () => settled);
      } else if (p && (await this.alive(t.objectId, p))) {
        await p.thaw();
        p.clearTimers();
      }
      // After the stop or the check: a leader found gone by either leaves leftovers of its own.
      this.leftovers.close(t.objectId);
      this.leftovers.drop(t.objectId);
      this.live.delete(t.objectId);
      this.lastExit.delete(t.objectId);
      this.refused.delete(t.objectId);
    });
  }

  /** What is left of the object's earlier trees given its SIGKILL now, once it has settled. */
  private closedLeftovers(objectId: string): Promise<void> {
    this.leftovers.close(objectId);
    return this.leftovers.settled(objectId);
  }

  onObservation(listener: ObservationListener): void {
    this.listeners.push(listener);
  }

  /**
   * Stops watching; rejects calls still waiting, and a stop under way (retryable). Processes keep
   * running, a stop gets no SIGKILL: after the restart they are adopted again and the pending
   * action is dispatched anew. Leftovers of a leader's own exit get their SIGKILL now.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopSweep();
    this.leftovers.close();
    for (const p of new Set([...this.live.values(), ...this.stopping])) p.abort(new DriverError(CLOSED, true));
  }

  private config(t: DriverTarget): ProcessConfig {
    // A config stored before VIGIL_PROCESS_CGROUP was set is checked again here.
    const { data, problems } = this.checked(t.config);
    if (data && problems.length === 0) return data;
    throw new DriverError(
      `invalid process config: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      false,
    );
  }

  /** The grace period of a config; an invalid config must not keep a tree from being stopped. */
  private graceOf(t: DriverTarget): number {
    const parsed = processConfigFields.safeParse(t.config ?? {});
    return parsed.success ? parsed.data.graceMs : DEFAULT_GRACE_MS;
  }

  private serial<T>(objectId: string, task: () => Promise<T>): Promise<T> {
    const closed = () => new DriverError("the process driver is closed", true);
    if (this.closed) return Promise.reject(closed());
    // A call still waiting when the driver closes is rejected when its turn comes, not run: a
    // start would spawn a tree nothing watches.
    return this.queue.run(objectId, () => (this.closed ? Promise.reject(closed()) : task()));
  }

  private async spawn(objectId: string, config: ProcessConfig, action?: string): Promise<Governed> {
    let cgroup: CgroupTree | null = null;
    if (this.cgroup) {
      // A cgroup per spawn: leftovers of an earlier tree being swept never share it.
      const nonce = `${this.clock.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      cgroup = new CgroupTree(cgroupDir(this.cgroup, objectId, nonce), this.cgroup.version);
      try {
        cgroup.create();
      } catch (e) {
        throw new DriverError(`cannot create the cgroup ${cgroup.dir}: ${(e as Error).message}`, false);
      }
    }
    let child: ChildProcess;
    try {
      child = await spawnProcess(config, objectId, cgroup?.procsFile, action);
    } catch (e) {
      cgroup?.dispose();
      throw e;
    }
    const pid = child.pid;
    if (pid === undefined) throw new DriverError(`cannot start ${config.command}: no pid`, true);
    // Listened for at once: the wait below lets the event loop run, and the exit with it.
    let governed: Governed | null = null;
    let early: Exit | null = null;
    child.once("exit", (exitCode, signal) => {
      if (governed) this.ended(objectId, governed, { exitCode, signal });
      else early = { exitCode, signal };
    });
    // The shell moves itself into the cgroup first thing; until it has, the tree looks empty.
    if (cgroup && procfs) await until(() => cgroup.members().includes(pid) || readStat(pid) === null || early !== null);
    const tree = cgroup ?? new ProcessGroupTree(pid);
    const started = new Governed(pid, readStat(pid)?.startTime ?? null, child, tree, config.graceMs, this.clock);
    governed = started;
    this.live.set(objectId, started);
    this.lastExit.delete(objectId);
    // What a stop could not end of the tree before (its leader gone) is the new one's leftovers
    // now: listed in its observations, and each stop of the object stops it again.
    const refused = this.refused.get(objectId);
    if (refused) this.leftovers.refusedBy(refused.tree, objectId, refused.members);
    this.refused.delete(objectId);
    // Node emits 'exit' after 'spawn' has been handled, but should it ever have gone by:
    const exit: Exit | null =
      early ??
      (child.exitCode !== null || child.signalCode !== null
        ? { exitCode: child.exitCode, signal: child.signalCode }
        : null);
    if (exit) this.ended(objectId, started, exit);
    return started;
  }

  private async stopNow(t: DriverTarget): Promise<Observation> {
    const p = this.live.get(t.objectId);
    if (!p || !(await this.alive(t.objectId, p))) {
      // What an earlier stop could not end (its leader gone): stopped now, or the stop fails again.
      const refused = this.refused.get(t.objectId);
      if (refused)
        await stopRefused(refused.leader, refused.members, refused.tree, t.objectId, () => this.closed).catch(
          (e: unknown) => {
            // What refuses now (forked since by a recorded process, which may have exited), or has
            // not exited of its SIGKILL, is what the next stop looks for.
            if (e instanceof RefusedStop) refused.members = e.refused;
            else if (e instanceof StuckStop) refused.members = e.stuck;
            throw e;
          },
        );
      this.refused.delete(t.objectId);
      return this.stopped(t.objectId);
    }
    this.stopping.add(p);
    const exit = await p
      .terminate()
      .catch((e: unknown) => {
        if ((e instanceof RefusedStop || e instanceof StuckStop) && p.ended)
          this.refused.set(t.objectId, {
            leader: p.pid,
            members: e instanceof RefusedStop ? e.refused : e.stuck,
            tree: p.tree,
          });
        throw e;
      })
      .finally(() => this.stopping.delete(p));
    return { status: "stopped", at: this.clock.now(), pid: p.pid, ...exit };
  }

  /** The leader's state; once it is gone, its exit has been recorded when this returns. */
  private async alive(objectId: string, p: Governed): Promise<ProcStat | null> {
    const stat = p.state();
    if (stat) return stat;
    // An adopted process has no exit event. A child's, with its status, comes as Node reaps it:
    // it has when /proc no longer shows the pid. One /proc shows exited, not yet reaped, is given
    // EXIT_EVENT_MS: a reading of /proc that takes a live process for gone (as one of a leader
    // whose main thread had exited did) must not hold the object's turn for ever.
    if (!p.child) this.ended(objectId, p, { exitCode: null, signal: null });
    else if (readStat(p.pid) === null) await p.exited.catch(() => {});
    else if (!(await p.exitWithin(EXIT_EVENT_MS)))
      throw new DriverError(`process ${p.pid} reads as exited, but its exit has not been reported`, true);
    return null;
  }

  private watch(objectId: string, p: Governed): void {
    p.watch = this.clock.setTimeout(() => {
      p.watch = null;
      if (p.state()) this.watch(objectId, p);
      else this.ended(objectId, p, { exitCode: null, signal: null });
    }, this.watchMs);
  }

  /**
   * Records the leader's exit. One Vigil did not ask for goes to every listener at once (unless
   * `tell` is false: the caller reports it), and what is left of its tree is stopped.
   */
  private ended(objectId: string, p: Governed, exit: Exit, tell = true): void {
    if (!p.settle(exit)) return;
    // A tree released with `keep` is no longer governed: its end is nobody's business here,
    // least of all that of a new object under the same id.
    if (this.live.get(objectId) !== p) return;
    this.live.delete(objectId);
    this.lastExit.set(objectId, { pid: p.pid, ...exit });
    if (p.stopping || this.closed) return;
    this.leftovers.sweep(p.tree, p.graceMs, objectId);
    if (!tell) return;
    const observation = this.noting(objectId, {
      status: "stopped",
      at: this.clock.now(),
      pid: p.pid,
      ...exit,
      reason: "exited",
    });
    for (const l of this.listeners) l(objectId, observation);
  }

  /** Nothing runs: the last exit seen, if any. */
  private stopped(objectId: string): Observation {
    return this.noting(objectId, { status: "stopped", at: this.clock.now(), ...this.lastExit.get(objectId) });
  }

  /** `task` in the object's turn; its observation lists what of the object's earlier trees is being stopped. */
  private observing(objectId: string, task: () => Promise<Observation>): Promise<Observation> {
    return this.serial(objectId, async () => this.noting(objectId, await task()));
  }

  /** `o`, with `leftovers` when earlier trees of the object are within their grace period. */
  private noting(objectId: string, o: Observation): Observation {
    const leftovers = this.leftovers.of(objectId);
    return leftovers.length > 0 ? { ...o, leftovers } : o;
  }
}
