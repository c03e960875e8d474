// The figures of one row of the comparison, folded from its trace over the window: seconds in
// each state and wakes (core/usage.ts, the fold the server's usage figures use too), how long
// the facts that found their object not active waited, and the saving against objects that are
// always on. Pure; the definitions are in docs/simulate.md.

import type { LifecycleState } from "../core/types.ts";
import { addTotals, emptyTotals, secondsOf, UsageFold, type UsageTotals } from "../core/usage.ts";
import type { Arrival, StateEntry, Trace } from "./model.ts";

export interface WaitFigures {
  /** Facts that arrived while their object was not active. */
  count: number;
  /** Of those, the ones still waiting when the window ended: not in the percentiles. */
  unserved: number;
  /** Seconds until the object was active, nearest rank over the facts that saw it; null with none. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface RowFigures {
  name: string;
  kind: "policy" | "autostop";
  policy?: { name: string; version: string; hash: string };
  /** Seconds the objects spent in each state, summed; they add up to `objectSeconds`. */
  seconds: Record<LifecycleState, number>;
  /** The objects' time in the window: each object from its creation to the end, summed. */
  objectSeconds: number;
  /** Wakes (core/usage.ts): moves from a state at rest into waking or active. */
  wakes: number;
  facts: number;
  waited: WaitFigures;
  /** 1 - (seconds not dormant / objectSeconds): the share of always-on time saved. */
  saving: number;
}

/**
 * The value at percentile `p` (0-100] of ascending `sorted` by nearest rank: the smallest value
 * with at least p% of the values at or below it. Null for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Every object's usage from its creation to `end`, added up. */
export function usageOf(changes: ReadonlyMap<string, readonly StateEntry[]>, end: number): UsageTotals {
  const sum = emptyTotals();
  for (const list of changes.values()) {
    const first = list[0];
    if (!first || first.at >= end) continue;
    const fold = new UsageFold({ from: first.at, to: end }, first.state);
    for (let i = 1; i < list.length; i++) fold.enter(list[i]!.state, list[i]!.at);
    addTotals(sum, fold.finish());
  }
  return sum;
}

/**
 * How long each fact that found its object not active waited until it was active (ms), in
 * arrival order; facts whose object was not active again before `end` are `unserved` (the
 * window is half-open, as its seconds are: a change at `end` is not in it).
 */
export function waitsOf(
  arrivals: readonly Arrival[],
  changes: ReadonlyMap<string, readonly StateEntry[]>,
  end: number,
): { waits: number[]; unserved: number } {
  const waits: number[] = [];
  let unserved = 0;
  for (const wait of waitOfEach(arrivals, changes, end)) {
    if (wait === null) unserved++;
    else if (wait !== undefined) waits.push(wait);
  }
  return { waits, unserved };
}

/**
 * The wait of each of `arrivals`, in their order, as {@link waitsOf} finds it: the milliseconds
 * until its object was active, null for one still waiting at `end` (unserved), and undefined for
 * one that did not wait (its object was active) or arrived after `end`.
 */
export function waitOfEach(
  arrivals: readonly Arrival[],
  changes: ReadonlyMap<string, readonly StateEntry[]>,
  end: number,
): (number | null | undefined)[] {
  // Per object, the index of the first `active` entry at or after each index, found in one pass
  // from the end: looking forward from every arrival cost arrivals x changes for an object that
  // stayed waking (a history of 100,000 facts took minutes).
  const nextActive = new Map<string, Int32Array>();
  const activeFrom = (objectId: string, list: readonly StateEntry[]): Int32Array => {
    let next = nextActive.get(objectId);
    if (!next) {
      next = new Int32Array(list.length + 1).fill(list.length);
      for (let i = list.length - 1; i >= 0; i--) next[i] = list[i]!.state === "active" ? i : next[i + 1]!;
      nextActive.set(objectId, next);
    }
    return next;
  };
  return arrivals.map((a) => {
    if (a.state === "active" || a.at > end) return undefined;
    const list = changes.get(a.objectId) ?? [];
    const i = a.mark < list.length ? activeFrom(a.objectId, list)[a.mark]! : list.length;
    if (i >= list.length) return null;
    const { at } = list[i]!;
    // Active before the end; or at the end for no time, left at that same instant (the baseline
    // stopping as its start completes): that instant is the row's, served whether the window ends
    // there or later, as the window without --until ends when the last row settles.
    const instant = at === end && list[i + 1]?.at === end;
    return at < end || instant ? at - a.at : null;
  });
}

/** The figures of `trace` over the window that ends at `end`. */
export function figuresOf(trace: Trace, end: number): RowFigures {
  const usage = usageOf(trace.changes, end);
  let objectMs = 0;
  for (const list of trace.changes.values()) objectMs += Math.max(0, end - (list[0]?.at ?? end));
  const { waits, unserved } = waitsOf(trace.arrivals, trace.changes, end);
  const sorted = [...waits].sort((a, b) => a - b);
  const at = (p: number) => {
    const v = percentile(sorted, p);
    return v === null ? null : v / 1000;
  };
  return {
    name: trace.name,
    kind: trace.kind,
    ...(trace.policy ? { policy: trace.policy } : {}),
    seconds: secondsOf(usage.ms),
    objectSeconds: objectMs / 1000,
    wakes: usage.wakes,
    facts: trace.arrivals.filter((a) => a.at <= end).length,
    waited: { count: waits.length + unserved, unserved, p50: at(50), p99: at(99), max: at(100) },
    saving: objectMs === 0 ? 0 : 1 - (objectMs - usage.ms.dormant) / objectMs,
  };
}
