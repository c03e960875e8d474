// Fixture builders for the core and store tests: objects, decisions, outbox actions and commit
// batches with sensible defaults, so each test spells out only what it is about.

import { compilePolicy, type CompiledPolicy } from "../../src/core/compile.ts";
import type { ActionRecord, CommitBatch } from "../../src/core/store.ts";
import type { ActionKind, Decision, JsonObject, ObjectRecord, TimerOp } from "../../src/core/types.ts";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";

/** 2026-03-01T00:00:00Z: the start of virtual time in these tests. */
export const T0 = Date.parse("2026-03-01T00:00:00.000Z");

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export const iso = (ms: number): string => new Date(ms).toISOString();

/** An object record; dormant since T0, empty memory, simulated driver, no timers. */
export function makeObject(overrides: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    id: "obj-1",
    policy: "test-policy",
    state: "dormant",
    stateSince: T0,
    wokeAt: null,
    memory: {},
    memoryVersion: 0,
    substrate: { driver: "simulated", config: {}, observed: null },
    holdUntil: null,
    timers: [],
    lastDecisionId: null,
    lastFactAt: T0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A decision record with no rules fired and outcome `none`. */
export function makeDecision(overrides: Partial<Decision> & { id: string; objectId: string }): Decision {
  return {
    at: T0,
    trigger: { kind: "facts" },
    policy: { name: "test-policy", version: "1", hash: "h" },
    memoryVersion: 0,
    fired: [],
    outcome: "none",
    fromState: "dormant",
    toState: "dormant",
    actions: [],
    timers: [],
    notes: [],
    explanation: { summary: "outcome none (no rule fired); state stays dormant", rules: [] },
    dryRun: false,
    durationMs: 0.5,
    ...overrides,
  };
}

/** A pending outbox row. */
export function makeAction(
  overrides: Partial<ActionRecord> & { id: string; objectId: string; decisionId: string },
): ActionRecord {
  return {
    kind: "start",
    status: "pending",
    attempts: 0,
    nextAttemptAt: T0,
    lastError: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A commit batch for `object` that writes nothing but the object unless told. */
export function makeBatch(object: ObjectRecord, overrides: Partial<CommitBatch> = {}): CommitBatch {
  return {
    object,
    journal: null,
    decision: null,
    actions: [],
    supersede: [],
    timerOps: [],
    idempotency: null,
    ...overrides,
  };
}

/**
 * A batch as one arrival writes it: the decision `decisionId`, its actions (pending), and the
 * decision's action refs pointing at them.
 */
export function arrivalBatch(
  object: ObjectRecord,
  decisionId: string,
  options: {
    actions?: { id: string; kind: ActionKind }[];
    journal?: { seq: number; patch: JsonObject; at?: number };
    timerOps?: TimerOp[];
    supersede?: string[];
    idempotency?: CommitBatch["idempotency"];
    at?: number;
  } = {},
): CommitBatch {
  const at = options.at ?? object.updatedAt;
  const actions = (options.actions ?? []).map((a) =>
    makeAction({
      id: a.id,
      kind: a.kind,
      objectId: object.id,
      decisionId,
      createdAt: at,
      updatedAt: at,
      nextAttemptAt: at,
    }),
  );
  const decision = makeDecision({
    id: decisionId,
    objectId: object.id,
    at,
    memoryVersion: object.memoryVersion,
    actions: actions.map((a) => ({ id: a.id, kind: a.kind, status: "pending" as const })),
    timers: options.timerOps ?? [],
  });
  return makeBatch(object, {
    decision,
    actions,
    journal: options.journal
      ? { seq: options.journal.seq, patch: options.journal.patch, at: options.journal.at ?? at }
      : null,
    timerOps: options.timerOps ?? [],
    supersede: options.supersede ?? [],
    idempotency: options.idempotency ?? null,
  });
}

/** Validates and compiles a policy document; throws with every problem when it is invalid. */
export function compileDoc(doc: unknown, hash = "hash"): CompiledPolicy {
  const v = validatePolicy(doc);
  if (!v.valid) throw new Error(`invalid test policy: ${JSON.stringify(v.errors)}`);
  return compilePolicy(v.policy, hash);
}

/** Deterministic ids: `decision-0001`, `action-0002`, ... */
export function idSequence(): (kind: "decision" | "action") => string {
  let n = 0;
  return (kind) => `${kind}-${String(++n).padStart(4, "0")}`;
}

/** Freezes a value and everything in it, so a test notices any mutation (strict mode throws). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Commits object `w1`, `waking` since T0 with its start `act-start` pending (of decision
 * `dec-wake`), as a server leaves it when it stops after the wake's commit; with `attempts`, the
 * start was tried that many times and waits out its backoff until T0 + 500.
 */
export async function commitWakingWithStart(
  store: { commit(batches: CommitBatch[]): Promise<void> },
  o: { policy: string; memory: JsonObject; substrate: ObjectRecord["substrate"]; attempts?: number },
): Promise<void> {
  const object = makeObject({
    id: "w1",
    policy: o.policy,
    state: "waking",
    wokeAt: T0,
    memory: o.memory,
    substrate: o.substrate,
  });
  const batch = arrivalBatch(object, "dec-wake", { actions: [{ id: "act-start", kind: "start" }] });
  if (o.attempts)
    batch.actions[0] = { ...batch.actions[0]!, attempts: o.attempts, lastError: "boom", nextAttemptAt: T0 + 500 };
  await store.commit([batch]);
}
