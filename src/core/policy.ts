// The policy model: what a policy file holds once it is valid. json-rules-engine's rule shape
// (conditions, events) plus Vigil's envelope (defaults, sleep, dwell, schedules, shared
// conditions). The zod schema in contracts/policy.ts validates a document into these types.

import type { BuiltinFact } from "./vocabulary.ts";
import type { Json, SleepMode } from "./types.ts";

/** A comparison of one built-in fact (at `path`) with a value or with another fact. */
export interface FactCondition {
  fact: BuiltinFact;
  path?: string | undefined;
  operator: string;
  /** The value to compare with, or `{fact, path?}` to compare with another fact. */
  value: Json;
  params?: Record<string, Json> | undefined;
  name?: string | undefined;
  priority?: number | undefined;
}

/** Optional fields every boolean node may carry (json-rules-engine's). */
interface NodeCommon {
  name?: string | undefined;
  priority?: number | undefined;
}

export type AllCondition = NodeCommon & { all: Condition[] };
export type AnyCondition = NodeCommon & { any: Condition[] };
export type NotCondition = NodeCommon & { not: Condition };
/** A reference to a shared condition of the policy's `conditions`. */
export type ConditionReference = NodeCommon & { condition: string };

export type Condition = FactCondition | AllCondition | AnyCondition | NotCondition | ConditionReference;

/** A rule's top-level condition: never a bare fact comparison (json-rules-engine's rule). */
export type TopCondition = AllCondition | AnyCondition | NotCondition | ConditionReference;

type Reason = { reason?: string | undefined };

export type EventDocument =
  | { type: "wake"; params?: Reason | undefined }
  | { type: "hold-active"; params?: ({ for?: string | undefined } & Reason) | undefined }
  | {
      type: "dormancy";
      params?:
        | ({
            mode?: SleepMode | undefined;
            wakeAfter?: string | undefined;
            wakeAt?: string | undefined;
          } & Reason)
        | undefined;
    }
  | { type: "schedule"; params: { name: string; after?: string | undefined; at?: string | undefined } & Reason }
  | { type: "cancel"; params: { name: string } & Reason };

export interface RuleDocument {
  name: string;
  priority?: number | undefined;
  conditions: TopCondition;
  event: EventDocument;
}

export interface ScheduleDocument {
  name: string;
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** IANA time zone; UTC when absent. */
  timezone?: string | undefined;
}

export interface PolicyDocument {
  $schema?: string | undefined;
  name: string;
  version: string;
  description?: string | undefined;
  /** Deep-merged under memory before evaluation; memory wins. */
  defaults?: Record<string, Json> | undefined;
  sleep?: SleepMode | undefined;
  dwell?: { minActive?: string | undefined; minDormant?: string | undefined } | undefined;
  schedules?: ScheduleDocument[] | undefined;
  /** Shared conditions that rules reference as `{condition: name}`. */
  conditions?: Record<string, TopCondition> | undefined;
  rules: RuleDocument[];
}

/** Timer names Vigil itself uses; a rule's `schedule` event may not take them. */
export const RESERVED_TIMER_NAMES = ["wake", "hold", "dwell"] as const;

/**
 * The rules Vigil adds to what fired (core/resolve.ts): the object's own wake alarm, and a hold
 * lease still running. A policy's rule may not take their names, or it would be taken for them.
 */
export const WAKE_ALARM_RULE = "timer:wake";
export const HOLD_LEASE_RULE = "hold:lease";
export const RESERVED_RULE_NAMES = [WAKE_ALARM_RULE, HOLD_LEASE_RULE] as const;

/** `{fact: "...", path?}` as a comparison value: json-rules-engine reads the other fact. */
export function isFactRef(v: unknown): v is { fact: string; path?: string } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as { fact?: unknown }).fact === "string";
}
