// What the edges (HTTP, CLI) may ask of the governor and the policy registry, in domain
// terms: records in, records out. Routes call these, never the store; the edges render the
// records as API views. Errors are VigilError (core/errors.ts) with a kind the edge maps.

import type { Problem } from "../core/errors.ts";
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
}

/** The result of one accepted (or replayed) arrival of facts. */
export interface FactsResult {
  object: ObjectRecord;
  decision: Decision;
  /** True when an Idempotency-Key was seen before: nothing was applied this time. */
  replayed: boolean;
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

export interface GovernorApi {
  /** Creates (and evaluates with trigger `create`) or updates an object. */
  putObject(id: string, input: PutObjectInput): Promise<{ created: boolean; object: ObjectRecord }>;
  getObject(id: string): Promise<ObjectRecord | null>;
  listObjects(q: ObjectListQuery): Promise<ObjectPage>;
  /** Deletes the object and its history; `compute` (default `stop`) says what becomes of its compute. */
  deleteObject(id: string, compute?: Release): Promise<boolean>;
  /**
   * Merges a patch, evaluates, commits. With an idempotency key already used for this object,
   * returns the first result with `replayed: true`, applying nothing.
   */
  postFacts(id: string, facts: unknown, idempotencyKey?: string): Promise<FactsResult>;
  postFactsBatch(items: BatchItem[]): Promise<BatchItemResult[]>;
  /** Dry run: nothing is stored or dispatched. */
  evaluate(id: string, input: DryRunInput): Promise<Decision>;
  listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]>;
  getDecision(id: string): Promise<Decision | null>;
  /** True once recovery at start is done and the store answers. */
  ready(): Promise<boolean>;
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
  validate(doc: unknown): { valid: true; warnings: Problem[] } | { valid: false; errors: Problem[] };
}
