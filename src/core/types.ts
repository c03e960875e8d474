// The vocabulary of Vigil in types: objects, triggers, decisions, actions, timers.
// Everything here is plain data so it can cross any boundary (HTTP, storage, fixtures).

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const LIFECYCLE_STATES = ["dormant", "waking", "active", "sleeping", "failed"] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const OUTCOMES = ["wake", "hold-active", "dormancy", "none"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const TRIGGER_KINDS = ["create", "facts", "timer", "substrate", "manual"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export interface Trigger {
  kind: TriggerKind;
  /** Timer name for `timer`, observation status for `substrate`. */
  name?: string;
  /** A timer that fired during start-up recovery or more than a second after its due time. */
  late?: boolean;
}

export const ACTION_KINDS = ["start", "suspend", "stop"] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export type SleepMode = "suspend" | "stop";

export const ACTION_STATUSES = ["pending", "confirmed", "failed", "superseded"] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** What a driver last saw of the object's compute. */
export interface Observation {
  status: "running" | "suspended" | "stopped" | "unknown";
  at: number;
  [key: string]: Json | undefined;
}

export interface SubstrateBinding {
  driver: string;
  config: JsonObject;
  observed: Observation | null;
}

export const TIMER_KINDS = ["cron", "wake", "hold", "dwell", "schedule"] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

export interface Timer {
  name: string;
  dueAt: number;
  kind: TimerKind;
}

/** A timer change a decision asked for. */
export interface TimerOp {
  name: string;
  op: "set" | "cancel";
  dueAt?: number;
  kind: TimerKind;
  /** A cron tick's schedule as armed (scheduleSpec), for the store only: a decision does not list it. */
  spec?: string;
  /** A timer put off while its policy was not loaded: when it was first due. For the store only. */
  firstDue?: number;
}

/** The governed object as the core sees it. Times are epoch milliseconds. */
export interface ObjectRecord {
  id: string;
  policy: string;
  state: LifecycleState;
  stateSince: number;
  /**
   * When the current wake began (the move to `waking`, or to `active` when the substrate was
   * found running); null while the object is neither waking nor active. dwell.minActive counts
   * from here, so a slow start does not lengthen it.
   */
  wokeAt: number | null;
  memory: JsonObject;
  memoryVersion: number;
  substrate: SubstrateBinding;
  holdUntil: number | null;
  timers: Timer[];
  lastDecisionId: string | null;
  /** Time of the latest accepted fact (creation until the first fact). */
  lastFactAt: number;
  createdAt: number;
  updatedAt: number;
}

export interface FiredEvent {
  rule: string;
  event: string;
  params: JsonObject;
}

export interface ActionRef {
  id: string;
  kind: ActionKind;
  status: ActionStatus;
}

/** One condition of the explanation, mirroring json-rules-engine's result tree. */
export type ConditionExplanation =
  | {
      kind: "fact";
      fact: string;
      path?: string;
      operator: string;
      value: Json;
      /** `true`/`false`, or `"not-evaluated"` when json-rules-engine short-circuited it. */
      result: boolean | "not-evaluated";
      factValue?: Json;
    }
  | {
      kind: "all" | "any" | "not";
      result: boolean | "not-evaluated";
      conditions: ConditionExplanation[];
    }
  | { kind: "reference"; condition: string; result: boolean | "not-evaluated" };

export interface RuleExplanation {
  rule: string;
  event: string;
  fired: boolean;
  conditions: ConditionExplanation;
}

export interface Explanation {
  /** One sentence: why the outcome is what it is. */
  summary: string;
  rules: RuleExplanation[];
}

export interface Decision {
  id: string;
  objectId: string;
  at: number;
  trigger: Trigger;
  /** The policy version evaluated; `hash` (sha256 of its file) tells edits apart when `version` was not bumped. */
  policy: { name: string; version: string; hash: string };
  memoryVersion: number;
  fired: FiredEvent[];
  outcome: Outcome;
  fromState: LifecycleState;
  toState: LifecycleState;
  actions: ActionRef[];
  timers: TimerOp[];
  notes: string[];
  explanation: Explanation;
  dryRun: boolean;
  durationMs: number;
}
