// The JSON views of API v1: Object, Decision, a batch item's result, and list cursors. The
// governor answers with domain records (epoch-ms times, a policy by name); this is where they
// become what clients see (ISO 8601 UTC times, the policy's version).

import type { Decision, JsonObject, ObjectRecord, Observation } from "../core/types.ts";
import { isPlainObject } from "../core/json.ts";
import { OBJECT_ID_PATTERN } from "../core/object.ts";
import type { ActionRecord } from "../core/store.ts";
import { secondsOf } from "../core/usage.ts";
import type { ActionChange, BatchItemResult, ObjectUsage, PolicyUsage, PolicyUsagePage } from "../governor/services.ts";
import { problemHeaders, problemOf, validationProblem, type ProblemBody } from "./problem.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A driver's observation with its time as ISO 8601; the driver's own fields (pid, ...) kept. */
function observedView(o: Observation): Omit<Observation, "at"> & { at: string | null } {
  return { ...o, at: iso(o.at) };
}

/** What a caller who may not see secrets sees of each value of a config's `env`. */
export const HIDDEN = "***";

/**
 * A substrate config as the caller may see it: the values of its `env` (a process's
 * environment: API keys, passwords) are shown only with `secrets`; otherwise its keys are
 * listed with {@link HIDDEN}.
 */
function configView(config: JsonObject, secrets: boolean): JsonObject {
  const env = config.env;
  if (secrets || !isPlainObject(env)) return config;
  const hidden: JsonObject = {};
  for (const key of Object.keys(env)) hidden[key] = HIDDEN;
  return { ...config, env: hidden };
}

/**
 * The Object of API v1; `version` is the version of its policy the caller means (null: not
 * loaded); `secrets` whether the caller sees the values of its config's `env` (auth.ts
 * `seesSecrets`; hidden unless the caller says otherwise).
 */
export function objectView(o: ObjectRecord, version: string | null, secrets = false) {
  return {
    id: o.id,
    policy: { name: o.policy, version },
    state: o.state,
    stateSince: iso(o.stateSince),
    memory: o.memory,
    memoryVersion: o.memoryVersion,
    substrate: {
      driver: o.substrate.driver,
      config: configView(o.substrate.config, secrets),
      observed: o.substrate.observed ? observedView(o.substrate.observed) : null,
    },
    holdUntil: iso(o.holdUntil),
    timers: o.timers.map((t) => ({ name: t.name, dueAt: iso(t.dueAt), kind: t.kind })),
    lastDecisionId: o.lastDecisionId,
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
  };
}

/**
 * The Decision of API v1. A dry run is not stored, so it has no id to look up: its `id` and
 * its actions' ids are null.
 */
export function decisionView(d: Decision) {
  return {
    ...d,
    id: d.dryRun ? null : d.id,
    actions: actionsView(d),
    at: iso(d.at),
    timers: d.timers.map(timerView),
  };
}

const actionsView = (d: Decision) => (d.dryRun ? d.actions.map((a) => ({ ...a, id: null })) : d.actions);

const timerView = (t: Decision["timers"][number]) => (t.dueAt === undefined ? t : { ...t, dueAt: iso(t.dueAt) });

/**
 * The decision as `Prefer: return=minimal` asks for it: everything but the explanation tree,
 * with the explanation's one-sentence summary. Built field by field, not from
 * {@link decisionView} (this is the reply to most facts); the type keeps the two in step.
 */
export function minimalDecisionView(
  d: Decision,
): Omit<ReturnType<typeof decisionView>, "explanation"> & { summary: string } {
  return {
    id: d.dryRun ? null : d.id,
    objectId: d.objectId,
    at: iso(d.at),
    trigger: d.trigger,
    policy: d.policy,
    memoryVersion: d.memoryVersion,
    fired: d.fired,
    outcome: d.outcome,
    fromState: d.fromState,
    toState: d.toState,
    actions: actionsView(d),
    timers: d.timers.map(timerView),
    notes: d.notes,
    dryRun: d.dryRun,
    durationMs: d.durationMs,
    summary: d.explanation.summary,
  };
}

/**
 * The reply to facts: the object after the arrival and the decision it took. `secrets` as for
 * {@link objectView}; hidden unless the caller says otherwise.
 */
export function factsView(r: { object: ObjectRecord; decision: Decision; version: string | null }, secrets = false) {
  return { object: objectView(r.object, r.version, secrets), decision: decisionView(r.decision) };
}

/** One item of `POST /v1/facts`: its decision's id and outcome, or its problem. */
export function batchItemView(
  r: BatchItemResult,
  report: (error: unknown) => void,
): { objectId: string; decisionId?: string; outcome?: string; error?: BatchItemProblem } {
  if ("decision" in r) return { objectId: r.objectId, decisionId: r.decision.id, outcome: r.decision.outcome };
  const error: BatchItemProblem = problemOf(r.error, report, "the item could not be processed; it has been logged");
  // The Retry-After the one object's route would send (a batch's reply is a 200 and has none):
  // without it, an item refused for a full mailbox or a policy not loaded never said when to come back.
  const retryAfter = problemHeaders(r.error)["retry-after"];
  if (retryAfter !== undefined) error.retryAfter = Number(retryAfter);
  return { objectId: r.objectId, error };
}

/** A batch item's problem: `retryAfter` in seconds where its own route would send `Retry-After`. */
export type BatchItemProblem = ProblemBody & { retryAfter?: number };

/** A list cursor: the last id of a page, opaque to clients. */
export const encodeCursor = (lastId: string) => Buffer.from(lastId, "utf8").toString("base64url");

/** The id a cursor this server issued stands for; a 422 naming `$.query.cursor` otherwise. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  // Node's decoder skips characters outside the alphabet (and padding): only the exact text
  // this server would write for the id is a cursor it issued.
  if (!OBJECT_ID_PATTERN.test(id) || encodeCursor(id) !== cursor)
    throw validationProblem("invalid cursor", [{ path: "$.query.cursor", message: "not a cursor this server issued" }]);
  return id;
}

/** An action's event on the stream: what happened to it, and the error when it failed or will retry. */
export function actionEventView(a: ActionRecord, status: ActionChange, error?: string) {
  return {
    id: a.id,
    objectId: a.objectId,
    decisionId: a.decisionId,
    kind: a.kind,
    status,
    attempts: a.attempts,
    ...(error !== undefined ? { error } : {}),
  };
}

/** An object's usage: seconds per state (to the millisecond), wakes and state changes. */
export function usageView(u: ObjectUsage) {
  return {
    objectId: u.objectId,
    from: iso(u.from),
    to: iso(u.to),
    seconds: secondsOf(u.ms),
    wakes: u.wakes,
    transitions: u.transitions,
  };
}

const policyUsageItem = (u: PolicyUsage) => ({
  policy: u.policy,
  objects: u.objects,
  seconds: secondsOf(u.ms),
  wakes: u.wakes,
  transitions: u.transitions,
});

/** Usage per policy over a page of objects; `nextCursor` when more objects follow. */
export function policyUsageView(page: PolicyUsagePage) {
  return {
    from: iso(page.from),
    to: iso(page.to),
    items: page.items.map(policyUsageItem),
    ...(page.next !== undefined ? { nextCursor: encodeCursor(page.next) } : {}),
  };
}
