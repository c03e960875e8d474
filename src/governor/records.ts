// Plain functions over the governor's records: ids, the empty commit, which timer ticks are
// quiet, and the decision that records a final action failure.

import { OBJECT_ID_PATTERN } from "../contracts/api.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import type { DecideResult } from "../core/decide.ts";
import { invalid } from "../core/errors.ts";
import type { ActionRecord, CommitBatch } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";

/**
 * A timer tick that fired nothing and changed nothing but its own re-arming: counted, not
 * stored, so that a monitor's minute tick does not bury the decisions that matter.
 */
export function isQuietTick({ decision }: DecideResult): boolean {
  return (
    decision.trigger.kind === "timer" &&
    decision.fired.length === 0 &&
    decision.outcome === "none" &&
    decision.fromState === decision.toState &&
    decision.notes.length === 0 &&
    decision.timers.every((t) => t.kind === "cron" && t.op === "set")
  );
}

/** A 422 naming `$.id` unless `id` is 1-128 characters of `A-Z a-z 0-9 . _ : -`. */
export function checkId(id: string): void {
  if (!OBJECT_ID_PATTERN.test(id))
    throw invalid("invalid object id", [
      { path: "$.id", message: "object ids are 1-128 characters of A-Z a-z 0-9 . _ : -" },
    ]);
}

/** A commit of the object row alone. */
export function emptyBatch(object: ObjectRecord): CommitBatch {
  return { object, journal: null, decision: null, actions: [], supersede: [], timerOps: [], idempotency: null };
}

/** Names of the `substrate` triggers of recorded changes (no rule ran, nothing to replay). */
export const RECORDED_CHANGES: readonly string[] = ["action-failed", "crash-loop"];

/**
 * A decision that records a lifecycle change no rule made (a final action failure, a crash
 * loop): trigger `substrate`, outcome `none`, the reason in `notes`.
 */
export function recordedDecision(
  id: string,
  object: ObjectRecord,
  policy: CompiledPolicy | null,
  change: { name: string; toState: ObjectRecord["state"]; note: string; actions?: Decision["actions"] },
  now: number,
): Decision {
  return {
    id,
    objectId: object.id,
    at: now,
    trigger: { kind: "substrate", name: change.name },
    policy: { name: object.policy, version: policy?.version ?? "unknown", hash: policy?.hash ?? "" },
    memoryVersion: object.memoryVersion,
    fired: [],
    outcome: "none",
    fromState: object.state,
    toState: change.toState,
    actions: change.actions ?? [],
    timers: [],
    notes: [change.note],
    explanation: { summary: `${object.state} -> ${change.toState}: ${change.note}`, rules: [] },
    dryRun: false,
    durationMs: 0,
  };
}

/** The decision for an action the substrate refused for good: no rule runs; the object is failed. */
export function failureDecision(
  id: string,
  object: ObjectRecord,
  policy: CompiledPolicy | null,
  action: ActionRecord,
  error: string,
  now: number,
): Decision {
  const note = `${action.kind} failed after ${action.attempts} attempt${action.attempts === 1 ? "" : "s"}: ${error}`;
  const actions = [{ id: action.id, kind: action.kind, status: "failed" as const }];
  return recordedDecision(id, object, policy, { name: "action-failed", toState: "failed", note, actions }, now);
}
