// The rounds of a Fly command (driver.ts): reading a machine until it settles, and waiting
// for it to reach a state after a command, each within the command's budget of waits and reads,
// extending the command's machine lease as they go so that it never runs out mid-phase.

import type { Clock } from "../../core/clock.ts";
import { DriverError } from "../driver.ts";
import { FlyApiError, type FlyClient, type FlyMachine, type HeldLease } from "./client.ts";
import { goDurationMs, type FlyConfig } from "./config.ts";
import { sleep } from "../../timers/within.ts";
import { hostUnreachable, reachedOrElsewhere, satisfies, settlesTo, isGone, waitOrRead, type Goal } from "./states.ts";

/** Polling interval when `wait` cannot be used; within Get Machine's 5 requests/s. */
const POLL_MS = 1_000;

/** How long the driver waits: each wait's seconds (Fly's limit is 60), and how many. */
export interface Limits {
  clock: Clock;
  maxWaits: number;
  waitTimeoutS: number;
}

/** One phase of waiting: all of its waits, and as long of reads once a second. */
export const phaseMs = (limits: Limits) => limits.maxWaits * limits.waitTimeoutS * 1000;

/** What one command carries through its rounds (FlyDriver.run). */
export interface Run {
  client: FlyClient;
  cfg: FlyConfig;
  goal: Goal;
  /** The machine lease its requests send, its own or shared (lease.ts), and when it was taken or renewed. */
  lease: { held?: HeldLease; at?: number };
  released: () => boolean;
  /** Extends the lease before a phase that may wait, when it no longer covers a whole phase. */
  renew: () => Promise<void>;
  /** Extends the lease within a phase once half of its time has gone. */
  keep: () => Promise<void>;
  /** Waits on a machine in motion, and once-a-second reads of one, over the command's rounds. */
  spent: { waits: number; reads: number };
  /**
   * A machine `stopping` is waited out past the waits while its stop's grace lasts: the config's
   * `stopTimeout` (sent with the stop), else the machine's own (`config.stop_config.timeout`, as
   * last read), from when the command first saw it stopping or sent the stop. Null for a
   * release's stop (a DELETE's, a rebind's), which keeps to the waits.
   */
  stopping: { since?: number; graceMs: number } | null;
}

/** The longest stop grace waited out (Fly's kill_timeout goes up to 24 h). */
const MAX_GRACE_MS = 24 * 3_600_000;
/** Past the grace: Fly's kill, and its word that the machine stopped. */
const GRACE_SLACK_MS = 60_000;

/** Whether a machine in `state` is stopping within its grace: still on its way, not stuck. */
function inGrace(run: Run, limits: Limits, state: string): boolean {
  const grace = run.stopping;
  if (state !== "stopping" || grace === null) return false;
  const now = limits.clock.now();
  grace.since ??= now;
  return now < grace.since + Math.min(grace.graceMs, MAX_GRACE_MS) + GRACE_SLACK_MS;
}

/**
 * Why a machine still `stopping` failed the command once a stop grace longer than the waits (and
 * the minute past it) is over: how long it has been stopping, which the waits' own count (5 of
 * 60 s) would understate by hours. Null when no such grace was waited out.
 */
function pastGrace(run: Run, limits: Limits, state: string): string | null {
  const grace = run.stopping;
  if (state !== "stopping" || grace?.since === undefined) return null;
  const graceMs = Math.min(grace.graceMs, MAX_GRACE_MS);
  if (graceMs + GRACE_SLACK_MS <= phaseMs(limits)) return null;
  const s = (ms: number) => `${Math.round(ms / 1000)} s`;
  return `machine is still stopping after ${s(limits.clock.now() - grace.since)}, past its stop grace of ${s(graceMs)} and a minute`;
}

/** The machine's own stop grace (`config.stop_config.timeout`) in ms, when it reads as one. */
function machineGraceMs(m: FlyMachine): number | undefined {
  const timeout = (m as { config?: { stop_config?: { timeout?: unknown } } }).config?.stop_config?.timeout;
  // A Go duration string as Fly's JSON gives it, nanoseconds, or the document's `{"time.Duration": ns}`.
  const ns =
    typeof timeout === "object" && timeout !== null ? (timeout as Record<string, unknown>)["time.Duration"] : timeout;
  if (typeof ns === "number" && Number.isFinite(ns) && ns >= 0) return ns / 1e6;
  return typeof ns === "string" ? goDurationMs(ns) : undefined;
}

/**
 * Reads the machine, and takes its own stop grace from the answer (when the config sets none):
 * every read's, so that the grace is the machine's as Fly last answered it.
 */
async function read(run: Run): Promise<FlyMachine> {
  const { client, cfg } = run;
  const m = await client.getMachine(cfg.app, cfg.machineId);
  if (cfg.stopTimeout === undefined && run.stopping) run.stopping.graceMs = machineGraceMs(m) ?? run.stopping.graceMs;
  return m;
}

/**
 * Reads the machine, waiting while it is in motion, unless `goal` is met already or cannot be
 * (a machine going away): up to `maxWaits` waits, and apart from them up to as long of reads
 * once a second for the states a wait cannot name, each counted over all the command's rounds
 * (after which the command fails, retryable).
 */
export async function settled(run: Run, limits: Limits): Promise<FlyMachine> {
  const { client, cfg, goal, spent } = run;
  const maxReads = phaseMs(limits) / POLL_MS;
  // Once Fly refuses a wait (400), the rest of the round reads once a second, as after a command.
  let refused = false;
  for (let m = await read(run); ; m = await read(run)) {
    const settles = settlesTo(m.state);
    // On a host Fly cannot reach, the state is the last Fly knew: no wait or read moves it, and
    // the command fails at once (converge), retryably, saying so.
    if (!settles || satisfies(goal, m.state) || isGone(m.state) || hostUnreachable(m)) return m;
    const graced = inGrace(run, limits, m.state);
    const next = refused ? "poll" : settles;
    const instance = m.instance_id;
    if (next === "poll" && spent.reads++ >= maxReads && !graced)
      throw new DriverError(
        pastGrace(run, limits, m.state) ??
          `machine is still ${m.state} after ${(maxReads * POLL_MS) / 1000} s of reads`,
        true,
      );
    if (next !== "poll" && spent.waits++ >= limits.maxWaits && !graced)
      throw new DriverError(
        pastGrace(run, limits, m.state) ??
          `machine is still ${m.state} after ${limits.maxWaits} waits of ${limits.waitTimeoutS} s`,
        true,
      );
    await run.keep();
    if (next === "poll") await sleep(limits.clock, POLL_MS);
    else if (!(await waitOrRead(() => client.wait(cfg.app, cfg.machineId, next, limits.waitTimeoutS, instance)))) {
      // The refused wait did not wait: it does not count as one.
      spent.waits--;
      refused = true;
    }
  }
}

/**
 * Waits for `state` after a command: again after each 408 while the machine is still on its
 * way; a machine that settled elsewhere (a start that crashed) is a 412 for another round. A
 * wait Fly refuses with a 400 (an instance that changed under us) becomes reads once a second.
 * Resolves to the machine's instance as it was last seen: `instanceId` when a wait naming it
 * answered, else the one the read that found the state gave (an update made it another).
 */
export async function reach(run: Run, limits: Limits, state: string, instanceId?: string): Promise<string | undefined> {
  const { client, cfg } = run;
  // A stop just sent: its grace runs from now (unless the machine was seen stopping before).
  if (state === "stopped") inGrace(run, limits, "stopping");
  let last = "";
  for (let i = 0; i < limits.maxWaits || inGrace(run, limits, last); i++) {
    await run.keep();
    let answer: "reached" | "timeout";
    try {
      answer = await client.wait(cfg.app, cfg.machineId, state, limits.waitTimeoutS, instanceId);
    } catch (e) {
      if (e instanceof FlyApiError && e.status === 400) return poll(run, limits, state);
      throw e;
    }
    if (answer === "reached") return instanceId;
    const m = await read(run);
    last = m.state;
    if (reachedOrElsewhere(last, state)) return m.instance_id;
  }
  throw notWithin(run, limits, state, last);
}

async function poll(run: Run, limits: Limits, state: string): Promise<string | undefined> {
  const deadline = limits.clock.now() + phaseMs(limits);
  let last = "";
  while (limits.clock.now() < deadline || inGrace(run, limits, last)) {
    await run.keep();
    await sleep(limits.clock, POLL_MS);
    const m = await read(run);
    last = m.state;
    if (reachedOrElsewhere(last, state)) return m.instance_id;
  }
  throw notWithin(run, limits, state, last);
}

/** A command's wait for `state` over, the machine still in `last`. */
const notWithin = (run: Run, limits: Limits, state: string, last: string) =>
  new DriverError(
    pastGrace(run, limits, last) ?? `machine did not reach ${state} within ${phaseMs(limits) / 1000} s`,
    true,
  );

/** A call its askers share (shared), and the signal that cuts it once every one has given up. */
export interface SharedCall<T> {
  call: Promise<T>;
  askers: number;
  cut: AbortController;
}

/**
 * `fn(cut)`, or the call already under way for `key` in `running`: one at a time per key, its
 * answer shared. An asker gives up when its `signal` aborts; once all have (none without a
 * signal is among them), `cut` aborts, so that the call stops, and the next asker starts afresh.
 */
export function shared<T>(
  running: Map<string, SharedCall<T>>,
  key: string,
  signal: AbortSignal | undefined,
  fn: (cut: AbortSignal) => Promise<T>,
): Promise<T> {
  let entry = running.get(key);
  if (!entry) {
    const cut = new AbortController();
    const started: SharedCall<T> = { call: fn(cut.signal), askers: 0, cut };
    started.call = started.call.finally(() => {
      if (running.get(key) === started) running.delete(key);
    });
    running.set(key, (entry = started));
  }
  const e = entry;
  e.askers++;
  if (signal === undefined) return e.call;
  const leave = () => {
    if (--e.askers > 0) return;
    if (running.get(key) === e) running.delete(key);
    e.cut.abort();
  };
  if (signal.aborted) leave();
  else {
    signal.addEventListener("abort", leave, { once: true });
    const off = () => signal.removeEventListener("abort", leave);
    e.call.then(off, off);
  }
  return e.call;
}
