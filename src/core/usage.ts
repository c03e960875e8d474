// Usage: how long an object spent in each lifecycle state over a window of time, how often it
// woke and how often its state changed, folded from the states it entered in order. Pure: the
// governor feeds it stored decisions (governor/usage.ts), the simulator the states it steps
// through.

import { confirmedState } from "./lifecycle.ts";
import type { StateChange } from "./store.ts";
import { LIFECYCLE_STATES, type LifecycleState } from "./types.ts";

/** A half-open window of time, [from, to), in epoch ms. */
export interface UsageWindow {
  from: number;
  to: number;
}

export type StateTimes = Record<LifecycleState, number>;

export interface UsageTotals {
  /** Milliseconds in each state; they add up to the window's length. */
  ms: StateTimes;
  /** Moves from a state where the compute is down (dormant, sleeping, failed) to waking or active. */
  wakes: number;
  /** State changes within the window. */
  transitions: number;
}

const awake = (s: LifecycleState) => s === "waking" || s === "active";

/** A wake: into waking, or straight into active (a substrate found running), from a state at rest. */
export const isWake = (from: LifecycleState, to: LifecycleState): boolean => awake(to) && !awake(from);

export function emptyTotals(): UsageTotals {
  const ms = {} as StateTimes;
  for (const s of LIFECYCLE_STATES) ms[s] = 0;
  return { ms, wakes: 0, transitions: 0 };
}

/** Adds `more` into `sum` (the totals of a policy's objects). */
export function addTotals(sum: UsageTotals, more: UsageTotals): void {
  for (const s of LIFECYCLE_STATES) sum.ms[s] += more.ms[s];
  sum.wakes += more.wakes;
  sum.transitions += more.transitions;
}

/** Milliseconds as seconds, to the millisecond. */
export function secondsOf(ms: StateTimes): StateTimes {
  const out = {} as StateTimes;
  for (const s of LIFECYCLE_STATES) out[s] = ms[s] / 1000;
  return out;
}

/** A driver's confirmation not yet placed in time order: it moves `from` to `to` at `at`. */
interface Confirmation {
  at: number;
  from: LifecycleState;
  to: LifecycleState;
}

/**
 * Folds the states an object entered, in time order, over a window. Changes before the window
 * only set the state it starts in; a change at `from` counts, one at `to` does not (windows
 * that follow each other count each change once). A change that comes earlier than one already
 * seen (clocks are not perfect) is taken as happening at the later time, so the times still add
 * up to the window.
 *
 * Stored decisions do not record every change: a driver's confirmation moves waking -> active
 * and sleeping -> dormant without a decision of its own. {@link decision} places it at the time
 * the action was confirmed, if the object was still where the decision left it; any other change
 * no decision records shows as a decision whose `fromState` is not the state the fold is in, and
 * is placed at that decision's time (the latest it can have happened).
 */
export class UsageFold {
  private state: LifecycleState | null;
  /** Time accounted for so far. */
  private at: number;
  private readonly totals = emptyTotals();
  private confirmations: Confirmation[] = [];

  /** `initial` is the state at `from`; null when unknown (the first decision's `fromState` is then used). */
  constructor(
    readonly window: UsageWindow,
    initial: LifecycleState | null = null,
  ) {
    this.state = initial;
    this.at = window.from;
  }

  /** The object moved to `state` at `at`. */
  enter(state: LifecycleState, at: number): void {
    const { from, to } = this.window;
    if (this.state === null || at < from) {
      // Before the window (or the first state known): where the window starts.
      this.state = state;
      return;
    }
    if (state === this.state || at >= to || this.at >= to) return;
    const t = Math.max(at, this.at);
    this.totals.ms[this.state] += t - this.at;
    this.at = t;
    this.totals.transitions++;
    if (isWake(this.state, state)) this.totals.wakes++;
    this.state = state;
  }

  /** A stored decision, oldest first: the change it made, and the one its confirmation made. */
  decision(d: StateChange): void {
    this.confirmUntil(d.at, d.fromState);
    if (this.state === null) this.state = d.fromState;
    this.enter(d.fromState, d.at);
    this.enter(d.toState, d.at);
    // A decision into waking issued a start, one into sleeping a suspend or a stop.
    const to = confirmedState(d.toState, d.toState === "waking" ? "start" : "stop");
    if (to !== null && d.confirmedAt !== null) {
      this.confirmations.push({ at: d.confirmedAt, from: d.toState, to });
      this.confirmations.sort((a, b) => a.at - b.at);
    }
  }

  /**
   * The totals, once the object's current record closes the fold: its state now, entered at
   * `stateSince`, stands for the last change if no decision recorded it.
   */
  finish(current?: { state: LifecycleState; stateSince: number }): UsageTotals {
    this.confirmUntil(Number.POSITIVE_INFINITY, null);
    if (current) {
      if (this.state === null) this.state = current.state;
      this.enter(current.state, current.stateSince);
    }
    const { to } = this.window;
    if (this.state !== null && this.at < to) this.totals.ms[this.state] += to - this.at;
    this.at = Math.max(this.at, to);
    return this.totals;
  }

  /**
   * Places the confirmations that came before a decision at `at` (at the same millisecond, only
   * if that decision starts where the confirmation leads). One that finds the object moved on
   * changed nothing.
   */
  private confirmUntil(at: number, nextFrom: LifecycleState | null): void {
    while (this.confirmations.length > 0) {
      const c = this.confirmations[0]!;
      if (c.at > at || (c.at === at && nextFrom !== c.to)) return;
      this.confirmations.shift();
      if (this.state === c.from) this.enter(c.to, c.at);
    }
  }
}
