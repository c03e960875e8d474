// What the edges (HTTP, CLI) may ask of the governor and the policy registry, in domain
// terms: records in, records out. Routes call these, never the store; the edges render the
// records as API views. Errors are VigilError (core/errors.ts) with a kind the edge maps.

import type { Clock } from "../core/clock.ts";
import type { Precondition, Problem } from "../core/errors.ts";
import type { ActionRecord, StateChange, StateChangeQuery } from "../core/store.ts";
import type { UsageTotals } from "../core/usage.ts";
import type { GovernorEvents } from "./events.ts";
import type { CensusRow } from "./metrics.ts";
import type { Release } from "../substrate/driver.ts";
import type { Decision, JsonObject, LifecycleState, ObjectRecord } from "../core/types.ts";

/** A substrate binding as a client asks for it. */
export interface SubstrateRequest {
  driver: string;
  config: JsonObject;
}

export interface PutObjectInput {
  policy: string;
  /** Without it, a new object gets the default driver and an existing one keeps its binding. */
  substrate?: SubstrateRequest | undefined;
  /** Initial memory; an existing object's memory changes only through facts. */
  memory?: JsonObject | undefined;
}

export interface ObjectListQuery {
  state?: LifecycleState | undefined;
  policy?: string | undefined;
  limit: number;
  /** Exclusive: list objects whose id sorts after this one. */
  after?: string | undefined;
}

export interface ObjectPage {
  items: ObjectRecord[];
  /** True when more objects follow the last item. */
  more: boolean;
  /** The last id the page read (past its last item when objects on their way out were left out). */
  last?: string;
}

/** The result of one accepted (or replayed) arrival of facts. */
export interface FactsResult {
  object: ObjectRecord;
  decision: Decision;
  /** True when an Idempotency-Key was seen before: nothing was applied this time. */
  replayed: boolean;
  /**
   * The version of the object's policy loaded now, as GET /v1/objects/{id} shows it (null: not
   * loaded). A replay's decision may have been taken under an older one.
   */
  version: string | null;
}

export interface BatchItem {
  objectId: string;
  facts: unknown;
  idempotencyKey?: string | undefined;
}

/** One item of a batch: its decision, or the error that refused it (the others are unaffected). */
export type BatchItemResult = { objectId: string; decision: Decision } | { objectId: string; error: unknown };

export interface DryRunInput {
  facts?: JsonObject | undefined;
  /** Epoch ms of the evaluation (default now). */
  at?: number | undefined;
  /** A candidate policy document to evaluate instead of the object's own. */
  policy?: unknown;
}

/** What an action's event on the stream says happened to it. */
export type ActionChange = "dispatched" | "retrying" | "confirmed" | "failed" | "superseded";

/** A change the event stream carries, once it is committed: a stored decision, or an action's status. */
export type LiveChange =
  | { kind: "decision"; decision: Decision }
  | { kind: "action"; action: ActionRecord; change: ActionChange; error?: string }
  | { kind: "deletion"; objectId: string; at: number };

/** A window of time in epoch ms; `to` defaults to now, `from` to 24 hours before `to`. */
export interface UsageQuery {
  from?: number | undefined;
  to?: number | undefined;
}

/** An object's usage over the window, clipped to its life: `from` is never before its creation. */
export interface ObjectUsage extends UsageTotals {
  objectId: string;
  from: number;
  to: number;
}

export interface PolicyUsageQuery extends UsageQuery {
  /** Only this policy's objects (default: every object, summed per policy). */
  policy?: string | undefined;
  /** Exclusive: sum the objects whose ids sort after this one. */
  after?: string | undefined;
  /** The most objects summed in one call. */
  limit: number;
}

/** The usage of a policy's objects, summed; `objects` counts those that lived within the window. */
export interface PolicyUsage extends UsageTotals {
  policy: string;
  objects: number;
}

export interface PolicyUsagePage {
  from: number;
  to: number;
  items: PolicyUsage[];
  /** The last object summed, when more follow: pass it as `after` to go on. */
  next?: string;
}

export interface GovernorApi {
  /** The clock the governor runs on (the event stream's heartbeats keep to it). */
  readonly clock: Clock;
  /**
   * Creates (and evaluates with trigger `create`) or updates an object; with a `precondition`,
   * only when the object exists (or does not), checked in the object's turn.
   */
  putObject(
    id: string,
    input: PutObjectInput,
    precondition?: Precondition,
  ): Promise<{ created: boolean; object: ObjectRecord }>;
  getObject(id: string): Promise<ObjectRecord | null>;
  listObjects(q: ObjectListQuery): Promise<ObjectPage>;
  /** Deletes the object and its history; `compute` (default `stop`) says what becomes of its compute. */
  deleteObject(id: string, compute?: Release, precondition?: Precondition): Promise<boolean>;
  /**
   * Merges a patch, evaluates, commits. With an idempotency key already used for this object,
   * returns the first result with `replayed: true`, applying nothing. With a `precondition`
   * (If-Match, If-None-Match), an existing object that does not meet it is a 412, nothing applied.
   */
  postFacts(id: string, facts: unknown, idempotencyKey?: string, precondition?: Precondition): Promise<FactsResult>;
  postFactsBatch(items: BatchItem[]): Promise<BatchItemResult[]>;
  /** Dry run: nothing is stored or dispatched. */
  evaluate(id: string, input: DryRunInput): Promise<Decision>;
  listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]>;
  getDecision(id: string): Promise<Decision | null>;
  /** True once recovery at start is done and the store answers. */
  /** Why it is not ready (recovery not done, the database not answering in time), or null. */
  notReady(): Promise<string | null>;
  /**
   * Calls `listener` with every stored decision (dry runs and quiet ticks never) and every
   * change of an action's status, after its commit. Returns the function that stops it.
   * The listener must not block; what it throws is reported as a governor error.
   */
  watch(listener: (change: LiveChange) => void): () => void;
  /**
   * Stored decisions after an event id (a decision's or an action's; exclusive), oldest first,
   * of every object or of one. How the event stream resumes from `Last-Event-ID`.
   */
  decisionsSince(after: string, limit: number, objectId?: string): Promise<Decision[]>;
  /**
   * The newest id of the decisions stored before (at start) or published since, or a cursor
   * before any (live.ts BEFORE_ANY_DECISION) while there is none: where a stream that began
   * without `Last-Event-ID` resumes, should it drop before it sent a decision.
   */
  newestDecisionId(): string;
  /** Time per state, wakes and state changes of one object over a window (not found: an error). */
  objectUsage(id: string, q: UsageQuery): Promise<ObjectUsage>;
  /**
   * One object's stored decisions as bare state changes, a page by id, each with when its action
   * was confirmed: what places a timeline's confirmations in one read.
   */
  stateChanges(objectId: string, q: StateChangeQuery): Promise<StateChange[]>;
  /** The same summed per policy, over a page of objects in id order. */
  policyUsage(q: PolicyUsageQuery): Promise<PolicyUsagePage>;
}

/**
 * What metrics (http/metrics.ts) read from the governor: its typed events, counted as they
 * come, and at a scrape the census it keeps as it commits and one cheap count of the store.
 */
export interface GovernorStatsApi {
  readonly events: GovernorEvents;
  /** Objects per policy and state now, and the seconds spent in each since the server started. */
  censusRows(): CensusRow[];
  /** How many timers are pending; null when the database failed or did not answer within 2 s. */
  pendingTimers(): Promise<number | null>;
  /** The driver an object in memory is bound to (every object that is not dormant is in memory). */
  driverOf(objectId: string): string | undefined;
}

export interface PolicyInfo {
  name: string;
  version: string;
  hash: string;
  file: string;
  loadedAt: string;
  description?: string;
  rules: string[];
  document: unknown;
  /** The engine that evaluates its rules: compiled, or json-rules-engine with the reason. */
  engine: { name: "compiled" | "json-rules-engine"; reason?: string };
}

export interface PolicyError {
  file: string;
  errors: Problem[];
  at: string;
}

export interface PoliciesApi {
  list(): { items: PolicyInfo[]; errors: PolicyError[] };
  get(name: string): PolicyInfo | null;
  /**
   * The refusal of the file behind policy `name`: the file its loaded version came from, or
   * `<name>.json` when no version is loaded. Null when that file loaded.
   */
  refusal(name: string): PolicyError | null;
  validate(doc: unknown): { valid: true; warnings: Problem[] } | { valid: false; errors: Problem[] };
}
