// What the edges (HTTP, CLI) may ask of the governor and the policy registry. Routes call
// these, never the store. Errors are VigilError (core/errors.ts) with a kind the edge maps.

import type { DecisionView, ObjectView, PutObjectBody } from "../contracts/api.ts";
import type { ProblemDetails } from "../core/errors.ts";
import type { Problem } from "../core/validate.ts";
import type { LifecycleState } from "../core/types.ts";
import type { ReplayReport } from "./replay.ts";

export interface FactsReply {
  object: ObjectView;
  decision: DecisionView;
}

export interface BatchItemResult {
  objectId: string;
  decisionId?: string;
  outcome?: string;
  /** Present when this item failed, as problem details; the other items are unaffected. */
  error?: ProblemDetails;
}

export interface GovernorApi {
  /** Creates (and evaluates with trigger `create`) or updates an object. */
  putObject(id: string, body: PutObjectBody): Promise<{ created: boolean; object: ObjectView }>;
  getObject(id: string): ObjectView | null;
  listObjects(q: {
    state?: LifecycleState;
    policy?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: ObjectView[]; nextCursor?: string }>;
  deleteObject(id: string): Promise<boolean>;
  /**
   * Merges a patch, evaluates, commits, replies. With an idempotency key already used for
   * this object, returns the first reply and `replayed: true`, applying nothing.
   */
  postFacts(id: string, facts: unknown, idempotencyKey?: string): Promise<FactsReply & { replayed: boolean }>;
  postFactsBatch(items: { objectId: string; facts: unknown; idempotencyKey?: string }[]): Promise<BatchItemResult[]>;
  /** Dry run: nothing is stored or dispatched. */
  evaluate(id: string, body: { facts?: Record<string, unknown>; at?: string; policy?: unknown }): Promise<DecisionView>;
  listDecisions(objectId: string, limit: number, before?: string): Promise<DecisionView[]>;
  /** Runs a candidate policy over the object's recorded history; nothing is stored. */
  replay(objectId: string, policy: unknown): Promise<ReplayReport>;
  getDecision(id: string): Promise<DecisionView | null>;
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
