// The process substrate: each object's compute is one OS process on this machine. start
// spawns it (or resumes it with SIGCONT), suspend is SIGSTOP (same pid, memory resident), stop
// is SIGTERM then SIGKILL after the grace period. Linux /proc verifies states and lets a
// restarted server re-adopt the processes it left running; without /proc the driver trusts its
// own table and adopts nothing.

import type { ChildProcess } from "node:child_process";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { KeyedQueue } from "../../core/keyed-queue.ts";
import type { Json, Observation } from "../../core/types.ts";
import { zodProblems } from "../../contracts/problems.ts";
import type { Problem } from "../../core/errors.ts";
import { DriverError, type Driver, type DriverTarget, type ObservationListener } from "../driver.ts";
import { DEFAULT_GRACE_MS, processConfigSchema, type ProcessConfig } from "./config.ts";
import { bootId, isGone, isStopped, procfs, readStat, waitForState, type ProcStat } from "./proc.ts";
import { spawnProcess } from "./spawn.ts";

export interface ProcessDriverOptions {
  clock: Clock;
  /**
   * How often, on the clock, an adopted process is checked for life (default 1000). It is not
   * this server's child, so its exit cannot be waited on.
   */
  watchMs?: number;
}

interface Exit {
  exitCode: number | null;
  signal: string | null;
}

/** A process the driver governs, from spawn or adoption until its exit is seen. */
interface Tracked {
  pid: number;
  /** /proc start time, in clock ticks since boot; null without /proc. */
  startTime: number | null;
  /** The ChildProcess when this driver spawned it; null when adopted after a restart. */
  child: ChildProcess | null;
  /** A stop Vigil asked for is under way: the exit it causes is not reported to listeners. */
  stopping: boolean;
  /** Without /proc: whether the driver last suspended it. */
  suspended: boolean;
  ended: boolean;
  exited: Promise<Exit>;
  settle: (exit: Exit) => void;
  abort: (error: Error) => void;
  /** The next liveness check of an adopted process. */
  watch: TimerHandle | null;
  /** The SIGKILL of a stop in progress. */
  kill: TimerHandle | null;
}

/**
 * Observations carry `status` and `at`, and: `pid`, `startTime` and `bootId` while a process
 * lives; `pid`, `exitCode` and `signal` once it has exited (both null for an adopted process,
 * whose exit status goes to its original parent); `reason` on an exit Vigil did not ask for
 * (`exited`) and on adoption (`adopted after restart`, `not running after restart`).
 *
 * close() does not kill processes: a server restarting must not take governed compute down.
 */
export class ProcessDriver implements Driver {
  readonly name = "process";
  readonly canSuspend = true;
  private readonly clock: Clock;
  private readonly watchMs: number;
  private readonly live = new Map<string, Tracked>();
  private readonly lastExit = new Map<string, Exit & { pid: number }>();
  /** Commands for one object run one after another: no two spawns, no stop racing a start. */
  private readonly queue = new KeyedQueue();
  private readonly listeners: ObservationListener[] = [];
  private closed = false;

  constructor(options: ProcessDriverOptions) {
    this.clock = options.clock;
    this.watchMs = options.watchMs ?? 1000;
  }

  validateConfig(config: unknown): Problem[] {
    const r = processConfigSchema.safeParse(config ?? {});
    return r.success ? [] : zodProblems(r.error);
  }

  /** Spawns the process, resumes it when suspended; a running one is left as it is. */
  start(t: DriverTarget): Promise<Observation> {
    return this.serial(t.objectId, async () => {
      const config = this.config(t);
      const p = this.live.get(t.objectId);
      const stat = p && (await this.alive(t.objectId, p));
      if (p && stat) {
        if (isStopped(stat)) await this.resume(p);
        return this.seen(p, "running");
      }
      const child = await spawnProcess(config);
      const pid = child.pid;
      if (pid === undefined) throw new DriverError(`cannot start ${config.command}: no pid`, true);
      const started = this.track(pid, readStat(pid)?.startTime ?? null, child);
      this.live.set(t.objectId, started);
      this.lastExit.delete(t.objectId);
      child.once("exit", (exitCode, signal) => this.ended(t.objectId, started, { exitCode, signal }));
      // Node emits 'exit' after 'spawn' has been handled, but should it ever have gone by:
      if (child.exitCode !== null || child.signalCode !== null)
        this.ended(t.objectId, started, { exitCode: child.exitCode, signal: child.signalCode });
      return this.seen(started, "running");
    });
  }

  /** SIGSTOP, confirmed by /proc showing the process stopped. Nothing running: stopped. */
  suspend(t: DriverTarget): Promise<Observation> {
    return this.serial(t.objectId, async () => {
      const p = this.live.get(t.objectId);
      const stat = p && (await this.alive(t.objectId, p));
      if (!p || !stat) return this.stopped(t.objectId);
      if (isStopped(stat)) return this.seen(p, "suspended");
      this.signal(p, "SIGSTOP");
      p.suspended = true;
      if (procfs) {
        const after = await waitForState(p.pid, isStopped);
        if (!after || isGone(after)) {
          await this.alive(t.objectId, p);
          return this.stopped(t.objectId);
        }
        if (!isStopped(after)) throw new DriverError(`process ${p.pid} did not stop on SIGSTOP`, true);
      }
      return this.seen(p, "suspended");
    });
  }

  /** SIGTERM, SIGKILL after `graceMs` on the clock; resolves on the exit. */
  stop(t: DriverTarget): Promise<Observation> {
    return this.serial(t.objectId, async () => {
      const p = this.live.get(t.objectId);
      const stat = p && (await this.alive(t.objectId, p));
      if (!p || !stat) return this.stopped(t.objectId);
      // An invalid config must not keep a process from being stopped.
      const parsed = processConfigSchema.safeParse(t.config ?? {});
      const graceMs = parsed.success ? parsed.data.graceMs : DEFAULT_GRACE_MS;
      p.stopping = true;
      this.signal(p, "SIGTERM");
      // A stopped process holds SIGTERM pending; SIGCONT lets it run into it.
      if (isStopped(stat)) this.signal(p, "SIGCONT");
      p.kill = this.clock.setTimeout(() => {
        p.kill = null;
        this.signal(p, "SIGKILL");
      }, graceMs);
      try {
        const exit = await p.exited;
        return { status: "stopped", at: this.clock.now(), pid: p.pid, ...exit };
      } finally {
        if (p.kill) this.clock.clearTimeout(p.kill);
        p.kill = null;
      }
    });
  }

  async observe(t: DriverTarget): Promise<Observation> {
    const p = this.live.get(t.objectId);
    if (!p) return this.stopped(t.objectId);
    const stat = this.stateOf(p);
    // Gone from /proc: its exit is about to be recorded.
    if (!stat) return { status: "stopped", at: this.clock.now(), pid: p.pid };
    return this.seen(p, isStopped(stat) ? "suspended" : "running");
  }

  /**
   * After a server restart: takes the process of `last` (the observation stored before the
   * restart) back under governance when it still runs, i.e. when /proc shows that pid with the
   * same start time in the same boot, and watches it for exit every `watchMs`. Anything else,
   * a pid now reused by another process included, is left alone and observed as stopped.
   */
  adopt(t: DriverTarget, last: Observation | null): Promise<Observation> {
    return this.serial(t.objectId, async () => {
      if (this.live.has(t.objectId)) return this.observe(t);
      const pid = last?.pid;
      const startTime = last?.startTime;
      const boot = last?.bootId;
      const identified =
        procfs &&
        typeof pid === "number" &&
        Number.isSafeInteger(pid) &&
        pid > 0 &&
        typeof startTime === "number" &&
        (boot === undefined || boot === bootId());
      const stat = identified ? readStat(pid) : null;
      if (!identified || !stat || isGone(stat) || stat.startTime !== startTime)
        return { status: "stopped", at: this.clock.now(), reason: "not running after restart" };
      const p = this.track(pid, startTime, null);
      this.live.set(t.objectId, p);
      this.watch(t.objectId, p);
      return { ...this.seen(p, isStopped(stat) ? "suspended" : "running"), reason: "adopted after restart" };
    });
  }

  onObservation(listener: ObservationListener): void {
    this.listeners.push(listener);
  }

  /**
   * Stops watching and rejects calls still waiting (retryable). Processes keep running, a stop
   * under way gets no SIGKILL: after the restart they are adopted again and the pending action
   * is dispatched anew.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.live.values()) {
      if (p.watch) this.clock.clearTimeout(p.watch);
      if (p.kill) this.clock.clearTimeout(p.kill);
      p.watch = p.kill = null;
      p.abort(new DriverError("the process driver closed", true));
    }
  }

  private config(t: DriverTarget): ProcessConfig {
    const r = processConfigSchema.safeParse(t.config ?? {});
    if (r.success) return r.data;
    const problems = zodProblems(r.error).map((p) => `${p.path}: ${p.message}`);
    throw new DriverError(`invalid process config: ${problems.join("; ")}`, false);
  }

  private serial<T>(objectId: string, task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DriverError("the process driver is closed", true));
    return this.queue.run(objectId, task);
  }

  private track(pid: number, startTime: number | null, child: ChildProcess | null): Tracked {
    let settle: (exit: Exit) => void = () => {};
    let abort: (error: Error) => void = () => {};
    const exited = new Promise<Exit>((resolve, reject) => {
      settle = resolve;
      abort = reject;
    });
    // Rejected by close() whether or not a stop awaits it.
    exited.catch(() => {});
    return {
      pid,
      startTime,
      child,
      stopping: false,
      suspended: false,
      ended: false,
      exited,
      settle,
      abort,
      watch: null,
      kill: null,
    };
  }

  /** The process's state, or null when it is gone or its pid now names another process. */
  private stateOf(p: Tracked): ProcStat | null {
    if (!procfs) return p.ended ? null : { state: p.suspended ? "T" : "S", startTime: 0 };
    const stat = readStat(p.pid);
    if (!stat || isGone(stat) || (p.startTime !== null && stat.startTime !== p.startTime)) return null;
    return stat;
  }

  /** Like stateOf, but once the process is gone its exit has been recorded when this returns. */
  private async alive(objectId: string, p: Tracked): Promise<ProcStat | null> {
    const stat = this.stateOf(p);
    if (stat) return stat;
    // A child's exit event, with its status, is on its way; an adopted process has none.
    if (p.child) await p.exited.catch(() => {});
    else this.ended(objectId, p, { exitCode: null, signal: null });
    return null;
  }

  private async resume(p: Tracked): Promise<void> {
    this.signal(p, "SIGCONT");
    p.suspended = false;
    if (!procfs) return;
    const after = await waitForState(p.pid, (s) => !isStopped(s));
    if (after && isStopped(after)) throw new DriverError(`process ${p.pid} did not resume on SIGCONT`, true);
  }

  /** Signals the process, never a pid that has since gone to another process. */
  private signal(p: Tracked, signal: NodeJS.Signals): void {
    // Node does not signal a child it has reaped.
    if (p.child) {
      p.child.kill(signal);
      return;
    }
    if (!this.stateOf(p)) return;
    try {
      process.kill(p.pid, signal);
    } catch {
      // ESRCH: it exited between the check and the signal; the watch will see it.
    }
  }

  private watch(objectId: string, p: Tracked): void {
    p.watch = this.clock.setTimeout(() => {
      p.watch = null;
      if (this.stateOf(p)) this.watch(objectId, p);
      else this.ended(objectId, p, { exitCode: null, signal: null });
    }, this.watchMs);
  }

  /** Records an exit; one Vigil did not ask for goes to every listener at once. */
  private ended(objectId: string, p: Tracked, exit: Exit): void {
    if (p.ended) return;
    p.ended = true;
    if (this.live.get(objectId) === p) {
      this.live.delete(objectId);
      this.lastExit.set(objectId, { pid: p.pid, ...exit });
    }
    if (p.watch) this.clock.clearTimeout(p.watch);
    p.watch = null;
    p.settle(exit);
    if (p.stopping || this.closed) return;
    const observation: Observation = { status: "stopped", at: this.clock.now(), pid: p.pid, ...exit, reason: "exited" };
    for (const l of this.listeners) l(objectId, observation);
  }

  private seen(p: Tracked, status: "running" | "suspended"): Observation {
    const o: Observation = { status, at: this.clock.now(), pid: p.pid };
    if (p.startTime !== null) o.startTime = p.startTime;
    const boot: Json = bootId();
    if (boot !== null) o.bootId = boot;
    return o;
  }

  /** Nothing runs: the last exit seen, if any. */
  private stopped(objectId: string): Observation {
    return { status: "stopped", at: this.clock.now(), ...this.lastExit.get(objectId) };
  }
}
