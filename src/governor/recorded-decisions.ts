// Decisions that record a lifecycle change no rule made: a final action failure, a crash
// loop. Trigger `substrate`, outcome `none`, the reason in `notes`, so an operator finds why
// an object is `failed` where they look for every other why.

import type { CompiledPolicy } from "../core/compile.ts";
import type { ActionRecord } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";

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
