// One arrival, start to finish, without I/O: merge the patch, build the built-in facts,
// evaluate, resolve, transition. The result is everything the store must commit at once.

import type { CompiledPolicy } from "./compile.ts";
import { evaluateRules, type BuiltinFacts } from "./evaluate.ts";
import type { JournalEntry } from "./journal.ts";
import { enter, transition } from "./lifecycle.ts";
import { mergeChecked, type MemoryLimits } from "./memory-limits.ts";
import { withDefaults } from "./merge-patch.ts";
import { resolve } from "./resolve.ts";
import { cronTimerOps, nextTicksFrom } from "./schedule.ts";
import { applyTimerOps } from "./timers.ts";
import type { ActionKind, Decision, JsonObject, ObjectRecord, TimerOp, Trigger } from "./types.ts";

export interface Arrival {
  trigger: Trigger;
  /** Epoch ms at which the arrival is evaluated. */
  at: number;
  /** A JSON Merge Patch for memory (`facts` trigger). */
  patch?: JsonObject;
  /**
   * The object's policy changed: a pending tick of a schedule of the same name moves to the new
   * schedule's next tick (otherwise the old policy's tick would fire once more).
   */
  resyncSchedules?: boolean;
}

export interface DecideDeps {
  newId: (kind: "decision" | "action") => string;
  canSuspend: (driver: string) => boolean;
  limits: MemoryLimits;
  dryRun?: boolean;
}

export interface DecideResult {
  object: ObjectRecord;
  decision: Decision;
  actions: { id: string; kind: ActionKind }[];
  /** What the store must do to the timers table (the decision lists what it set or cancelled). */
  timerOps: TimerOp[];
  journal: JournalEntry | null;
}

/** Evaluates one arrival against one object. Does not mutate `object`. */
export async function decide(
  policy: CompiledPolicy,
  object: ObjectRecord,
  arrival: Arrival,
  deps: DecideDeps,
): Promise<DecideResult> {
  const started = performance.now();
  const now = arrival.at;
  let memory = object.memory;
  let changed: string[] = [];
  let memoryVersion = object.memoryVersion;
  let lastFactAt = object.lastFactAt;
  let journal: JournalEntry | null = null;
  if (arrival.patch) {
    const merged = mergeChecked(memory, arrival.patch, deps.limits);
    memory = merged.memory;
    changed = merged.changed;
    memoryVersion += 1;
    lastFactAt = now;
    journal = { seq: memoryVersion, patch: arrival.patch, at: now };
  }
  // A timer that fires is used up; the evaluation may set it again.
  const fired =
    arrival.trigger.kind === "timer" ? object.timers.find((t) => t.name === arrival.trigger.name) : undefined;
  const timers = fired ? object.timers.filter((t) => t !== fired) : object.timers;

  const facts: BuiltinFacts = {
    memory: withDefaults(policy.defaults, memory),
    state: object.state,
    now,
    trigger: arrival.trigger,
    changed,
    idleMs: Math.max(0, now - lastFactAt),
    stateAgeMs: Math.max(0, now - object.stateSince),
    substrate: object.substrate.observed ?? { status: "unknown" },
  };
  const evaluation = await evaluateRules(policy, facts);
  const resolution = resolve({
    fired: evaluation.fired,
    trigger: arrival.trigger,
    now,
    state: object.state,
    stateSince: object.stateSince,
    wokeAt: object.wokeAt,
    holdUntil: object.holdUntil,
    timers,
    sleep: policy.sleep,
    minActiveMs: policy.minActiveMs,
    minDormantMs: policy.minDormantMs,
  });
  const resolved = applyTimerOps(timers, resolution.timerOps);
  const resync = arrival.resyncSchedules ? nextTicksFrom(now) : undefined;
  const timerOps = [...resolution.timerOps, ...cronTimerOps(policy.schedules, resolved, now, resync)];
  // The store must also forget the timer that fired, unless this decision set it again.
  const storeOps: TimerOp[] =
    fired && !timerOps.some((op) => op.name === fired.name)
      ? [{ name: fired.name, op: "cancel", kind: fired.kind }, ...timerOps]
      : timerOps;
  const driver = object.substrate.driver;
  const step = transition(object.state, resolution.outcome, resolution.mode, deps.canSuspend(driver), driver);
  const notes = [...resolution.notes, ...step.notes];
  const actions = step.action ? [{ id: deps.newId("action"), kind: step.action }] : [];
  const decisionId = deps.newId("decision");
  const next: ObjectRecord = {
    ...object,
    ...enter(object, step.toState, now),
    memory,
    memoryVersion,
    lastFactAt,
    holdUntil: resolution.holdUntil,
    timers: applyTimerOps(timers, timerOps),
    lastDecisionId: deps.dryRun ? object.lastDecisionId : decisionId,
    updatedAt: now,
  };
  const decision: Decision = {
    id: decisionId,
    objectId: object.id,
    at: now,
    trigger: arrival.trigger,
    policy: { name: policy.name, version: policy.version, hash: policy.hash },
    memoryVersion,
    fired: resolution.fired,
    outcome: resolution.outcome,
    fromState: object.state,
    toState: step.toState,
    actions: actions.map((a) => ({ ...a, status: "pending" as const })),
    // The store's operations as the decision lists them: without the schedule a tick was armed for.
    timers: timerOps.map(({ spec: _spec, ...op }) => op),
    notes,
    explanation: {
      summary: summarize(
        resolution.outcome,
        resolution.fired.map((f) => f.rule),
        object.state,
        step.toState,
        step.action,
      ),
      rules: evaluation.rules,
    },
    dryRun: deps.dryRun ?? false,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  };
  return { object: next, decision, actions, timerOps: storeOps, journal };
}

/** The one-sentence summary of an evaluated decision (stores rebuild it rather than keep it). */
export function summarize(
  outcome: string,
  rules: string[],
  from: string,
  to: string,
  action: ActionKind | null,
): string {
  const why = rules.length === 0 ? "no rule fired" : `fired: ${rules.join(", ")}`;
  const move = from === to ? `state stays ${from}` : `${from} -> ${to}`;
  return `outcome ${outcome} (${why}); ${move}${action ? `; ${action} issued` : ""}`;
}
