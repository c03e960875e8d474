// An object's pending timers as a list, and the operations decisions apply to it.

import type { Timer, TimerOp } from "./types.ts";

/**
 * A timer that fires more than this after its due time is marked `late`; a recorded firing
 * this close to a replayed one is the same firing.
 */
export const LATE_AFTER_MS = 1000;

/** Applies timer operations to a timer list, keeping it sorted by due time (byDue). */
export function applyTimerOps(timers: readonly Timer[], ops: readonly TimerOp[]): Timer[] {
  const byName = new Map(timers.map((t) => [t.name, t]));
  for (const op of ops) {
    if (op.op === "cancel") byName.delete(op.name);
    else byName.set(op.name, { name: op.name, dueAt: op.dueAt!, kind: op.kind });
  }
  return [...byName.values()].sort(byDue);
}

/**
 * Timers in the order an object lists them and the database fires them (`ORDER BY due_at,
 * object_id, name`): by due time, then name compared as SQLite's BINARY does (names are ASCII,
 * so code unit order is byte order: `B` before `a`), not by locale.
 */
export function byDue(a: Timer, b: Timer): number {
  return a.dueAt - b.dueAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The operations that set every timer of a list (a seeded object's timers). */
export function setAll(timers: readonly Timer[]): TimerOp[] {
  return timers.map((t) => ({ name: t.name, op: "set", dueAt: t.dueAt, kind: t.kind }));
}
