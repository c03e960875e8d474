// An object's recorded history read backwards into the state it was in: the lifecycle, hold
// lease and pending timers its decisions had left at a given moment. Replay starts a candidate
// policy from there, and journal compaction keeps it with a snapshot, so that replay still
// starts right once the decisions before the snapshot are pruned.

import type { LifecycleSeed } from "./journal.ts";
import { applyTimerOps } from "./timers.ts";
import type { ActionKind, Decision, Timer } from "./types.ts";

/** The status each action leaves the compute in, once done. */
const ACTION_LEAVES = { start: "running", suspend: "suspended", stop: "stopped" } as const satisfies Record<
  ActionKind,
  string
>;

const isStatus = (name: string | undefined): name is "running" | "suspended" | "stopped" =>
  name === "running" || name === "suspended" || name === "stopped";

/**
 * Whether a recorded decision lies after a history that starts at `start` with memory version
 * `snapSeq`. At the start itself, those taken on a memory beyond the snapshot do (a fact after
 * it, or a timer or a crash that came after such a fact); the snapshot includes every other
 * decision of that instant.
 */
export function isAfter(d: Decision, start: number, snapSeq: number): boolean {
  if (d.trigger.kind === "create") return snapSeq === 0 && d.at >= start;
  return d.at > start || (d.at === start && d.memoryVersion > snapSeq);
}

/**
 * The lifecycle the decisions up to (`start`, `snapSeq`) left: the last state, since the last
 * move, the timers still pending at `start`, and the hold lease among them. The decisions fold
 * on top of `from` (an earlier snapshot's lifecycle) or, without it, a dormant object.
 */
export function lifecycleAt(
  decisions: readonly Decision[],
  start: number,
  snapSeq: number,
  from?: LifecycleSeed,
): LifecycleSeed {
  return lifecycleAfter(
    decisions.filter((d) => !isAfter(d, start, snapSeq)),
    start,
    from,
  );
}

/**
 * The lifecycle every one of `decisions` (oldest first) left, at `at`: as lifecycleAt, with no
 * decision left out (a creation among them too, which a history starting at memory version 0
 * would count as after it).
 */
export function lifecycleAfter(decisions: readonly Decision[], at: number, from?: LifecycleSeed): LifecycleSeed {
  let state: LifecycleSeed["state"] = from?.state ?? "dormant";
  let stateSince = from?.stateSince ?? at;
  let timers: Timer[] = from?.timers ?? [];
  let substrate = from?.substrate;
  for (const d of decisions) {
    if (d.trigger.kind === "substrate" && isStatus(d.trigger.name)) substrate = { status: d.trigger.name, at: d.at };
    // An action that failed (a start refused for good, and the failure's own decision naming
    // it) or was superseded left the compute as it was: taken as done, it seeded a failed
    // object's replay with its compute running.
    const action = d.actions.findLast((a) => a.status !== "failed" && a.status !== "superseded");
    if (action) substrate = { status: ACTION_LEAVES[action.kind], at: d.at };
    state = d.toState;
    if (d.fromState !== d.toState) stateSince = d.at;
    if (d.trigger.kind === "timer" && d.trigger.name) timers = timers.filter((t) => t.name !== d.trigger.name);
    timers = applyTimerOps(timers, d.timers);
  }
  const pending = timers.filter((t) => t.dueAt >= at);
  const hold = pending.find((t) => t.name === "hold");
  return {
    state,
    stateSince,
    // Confirmations are not decisions: an object awake now began to wake at its last move.
    wokeAt: state === "waking" || state === "active" ? stateSince : null,
    holdUntil: hold ? hold.dueAt : null,
    timers: pending,
    ...(substrate ? { substrate } : {}),
  };
}
