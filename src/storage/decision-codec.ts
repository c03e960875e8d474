// Decisions on disk, compactly. Most of a decision can be derived from the policy version it
// was taken under: each rule's name and event, every condition's fact, path, operator and
// value, the summary sentence. So a stored decision keeps only what the evaluation found (each
// condition's result and fact value, which rules fired) and what it did (states, actions,
// timers, notes), as a positional JSON array, and the full decision is rebuilt on read from the
// policy document (kept once per version in `policy_versions`).
//
// The encoder checks, as it walks, that the decision is exactly what the document and the
// codes will rebuild; anything else (a decision not taken by evaluating this document) is
// stored whole, as JSON, and read back as it is. Nothing is lost either way.

import { summarize } from "../core/decide.ts";
import { jsonEqual } from "../core/json.ts";
import {
  HOLD_LEASE_RULE,
  WAKE_ALARM_RULE,
  type Condition,
  type PolicyDocument,
  type TopCondition,
} from "../core/policy.ts";
import {
  ACTION_KINDS,
  ACTION_STATUSES,
  LIFECYCLE_STATES,
  OUTCOMES,
  TIMER_KINDS,
  TRIGGER_KINDS,
  type ConditionExplanation,
  type Decision,
  type FiredEvent,
  type Json,
  type JsonObject,
  type RuleExplanation,
} from "../core/types.ts";

const FORMAT = 1;

/** Result codes: false, true, not evaluated. +3: a fact node with its fact value following. */
const RESULT = [false, true, "not-evaluated"] as const;
/** A shared-condition reference json-rules-engine never realized (short-circuited): 6 + result. */
const REFERENCE = 6;
/** A rule json-rules-engine returned no result for. */
const NO_RESULT = 9;

const codeOf = <T>(list: readonly T[], value: T): number => list.indexOf(value);
const resultCode = (r: boolean | "not-evaluated") => (r === "not-evaluated" ? 2 : r ? 1 : 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Where the policy version of a decision is: its key in `policy_versions`, and its document. */
export interface PolicyRef {
  key: number;
  name: string;
  version: string;
  hash: string;
  document: PolicyDocument;
}

/**
 * The decision's body for the `decisions` table: the compact array when `policy` rebuilds it
 * exactly, the whole decision as JSON otherwise.
 */
export function encodeDecision(d: Decision, policy: PolicyRef | null): string {
  const compact = policy && d.policy.hash === policy.hash && !d.dryRun ? compactOf(d, policy) : null;
  return JSON.stringify(compact ?? d);
}

/** Whether a body is a compact one (and which policy key it needs), or a whole decision. */
export function policyKeyOf(body: string): number | null {
  if (!body.startsWith("[")) return null;
  const m = /^\[\d+,(\d+),/.exec(body);
  return m ? Number(m[1]) : null;
}

/** Rebuilds the decision stored as `body` (its `policy` is needed when the body is compact). */
export function decodeDecision(
  row: { id: string; objectId: string; at: number; body: string },
  policy: PolicyRef | null,
): Decision {
  if (!row.body.startsWith("[")) return JSON.parse(row.body) as Decision;
  if (!policy) throw new Error(`decision ${row.id}: its policy version is not stored`);
  const a = JSON.parse(row.body) as Json[];
  const [, , trig, trigName, late, memoryVersion, outcome, from, to, actions, timers, notes, synth, expl, duration] =
    a as [
      number,
      number,
      number,
      string | null,
      number,
      number,
      number,
      number,
      number,
      Json[][],
      Json[][],
      string[],
      [number, number | null],
      Json[] | null,
      number,
    ];
  const trigger: Decision["trigger"] = { kind: TRIGGER_KINDS[trig]! };
  if (trigName !== null) trigger.name = trigName;
  if (late === 1) trigger.late = true;
  const d: Decision = {
    id: row.id,
    objectId: row.objectId,
    at: row.at,
    trigger,
    policy: { name: policy.name, version: policy.version, hash: policy.hash },
    memoryVersion,
    fired: [],
    outcome: OUTCOMES[outcome]!,
    fromState: LIFECYCLE_STATES[from]!,
    toState: LIFECYCLE_STATES[to]!,
    actions: actions.map(([id, kind, status]) => ({
      id: id as string,
      kind: ACTION_KINDS[kind as number]!,
      status: ACTION_STATUSES[status as number]!,
    })),
    // In the order the decision was made with (core/resolve.ts): the same text as served then.
    timers: timers.map(([name, op, kind, dueAt]) => ({
      name: name as string,
      op: op === 0 ? ("set" as const) : ("cancel" as const),
      ...(dueAt !== undefined ? { dueAt: dueAt as number } : {}),
      kind: TIMER_KINDS[kind as number]!,
    })),
    notes,
    explanation: { summary: "", rules: [] },
    dryRun: false,
    durationMs: duration,
  };
  if (expl === null) {
    d.explanation.summary = recordedSummary(d);
    return d;
  }
  const reader = { codes: expl, at: 0 };
  d.explanation.rules = policy.document.rules.map((rule) => {
    const fired = reader.codes[reader.at++] === 1;
    const conditions: ConditionExplanation =
      reader.codes[reader.at] === NO_RESULT
        ? (reader.at++, { kind: "all", result: "not-evaluated", conditions: [] })
        : readNode(reader, rule.conditions, policy.document);
    return { rule: rule.name, event: rule.event.type, fired, conditions };
  });
  d.fired = firedOf(d.explanation.rules, policy.document, synth);
  d.explanation.summary = summaryOf(d);
  return d;
}

/** The summary of a decision no rule made (a final action failure, a crash loop). */
const recordedSummary = (d: Decision) => `${d.fromState} -> ${d.toState}: ${d.notes[0] ?? ""}`;

const summaryOf = (d: Decision) =>
  summarize(
    d.outcome,
    d.fired.map((f) => f.rule),
    d.fromState,
    d.toState,
    d.actions[0]?.kind ?? null,
  );

/** The fired events: the rules that fired, in file order, then the synthetic ones resolve() adds. */
function firedOf(
  rules: RuleExplanation[],
  doc: PolicyDocument,
  [wake, holdUntil]: [number, number | null],
): FiredEvent[] {
  const fired: FiredEvent[] = [];
  rules.forEach((r, i) => {
    if (!r.fired) return;
    const event = doc.rules[i]!.event;
    fired.push({ rule: r.rule, event: event.type, params: (event.params ?? {}) as JsonObject });
  });
  if (wake === 1) fired.push({ rule: WAKE_ALARM_RULE, event: "wake", params: {} });
  if (holdUntil !== null)
    fired.push({ rule: HOLD_LEASE_RULE, event: "hold-active", params: { until: iso(holdUntil) } });
  return fired;
}

/** The compact array, or null when the decision is not what `policy` and the codes rebuild. */
function compactOf(d: Decision, policy: PolicyRef): Json[] | null {
  const synth: [number, number | null] = [0, null];
  for (const f of d.fired) {
    if (f.rule === WAKE_ALARM_RULE) synth[0] = 1;
    else if (f.rule === HOLD_LEASE_RULE && typeof f.params.until === "string") synth[1] = Date.parse(f.params.until);
  }
  let expl: Json[] | null;
  if (d.explanation.rules.length === 0 && d.explanation.summary === recordedSummary(d) && d.fired.length === 0) {
    expl = null;
  } else {
    expl = explanationCodes(d.explanation.rules, policy.document);
    if (!expl) return null;
    if (!jsonEqual(firedOf(d.explanation.rules, policy.document, synth) as unknown as Json, d.fired as unknown as Json))
      return null;
    if (summaryOf(d) !== d.explanation.summary) return null;
  }
  const actions = d.actions.map((a) => [a.id, codeOf(ACTION_KINDS, a.kind), codeOf(ACTION_STATUSES, a.status)]);
  const timers = d.timers.map((t) => {
    const row: Json[] = [t.name, t.op === "set" ? 0 : 1, codeOf(TIMER_KINDS, t.kind)];
    if (t.dueAt !== undefined) row.push(t.dueAt);
    return row;
  });
  return [
    FORMAT,
    policy.key,
    codeOf(TRIGGER_KINDS, d.trigger.kind),
    d.trigger.name ?? null,
    d.trigger.late === true ? 1 : 0,
    d.memoryVersion,
    codeOf(OUTCOMES, d.outcome),
    codeOf(LIFECYCLE_STATES, d.fromState),
    codeOf(LIFECYCLE_STATES, d.toState),
    actions,
    timers,
    d.notes,
    synth,
    expl,
    d.durationMs,
  ];
}

/** Every rule's fired flag and every node's result, in document order; null when a shape differs. */
function explanationCodes(rules: RuleExplanation[], doc: PolicyDocument): Json[] | null {
  if (rules.length !== doc.rules.length) return null;
  const out: Json[] = [];
  for (const [i, r] of rules.entries()) {
    const rule = doc.rules[i]!;
    if (r.rule !== rule.name || r.event !== rule.event.type) return null;
    out.push(r.fired ? 1 : 0);
    const c = r.conditions;
    // A rule json-rules-engine returned no result for is explained as an empty, unevaluated `all`.
    if (c.kind === "all" && c.conditions.length === 0 && c.result === "not-evaluated") out.push(NO_RESULT);
    else if (!writeNode(c, rule.conditions, doc, out)) return null;
  }
  return out;
}

/** Appends the codes of one explanation node as it walks the document beside it. */
function writeNode(e: ConditionExplanation, c: Condition, doc: PolicyDocument, out: Json[]): boolean {
  if ("condition" in c) {
    if (e.kind === "reference") {
      if (e.condition !== c.condition) return false;
      out.push(REFERENCE + resultCode(e.result));
      return true;
    }
    // json-rules-engine realized the reference in place: the shared condition's tree follows.
    const shared = doc.conditions?.[c.condition];
    return shared !== undefined && writeNode(e, shared, doc, out);
  }
  if ("all" in c || "any" in c) {
    const kind = "all" in c ? "all" : "any";
    const children = "all" in c ? c.all : c.any;
    if (e.kind !== kind || e.conditions.length !== children.length) return false;
    out.push(resultCode(e.result));
    return children.every((child, i) => writeNode(e.conditions[i]!, child, doc, out));
  }
  if ("not" in c) {
    if (e.kind !== "not" || e.conditions.length !== 1) return false;
    out.push(resultCode(e.result));
    return writeNode(e.conditions[0]!, c.not, doc, out);
  }
  if (e.kind !== "fact" || e.fact !== c.fact || e.operator !== c.operator || e.path !== c.path) return false;
  if (!jsonEqual(e.value, c.value ?? null)) return false;
  if (e.factValue === undefined) out.push(resultCode(e.result));
  else out.push(3 + resultCode(e.result), e.factValue);
  return true;
}

interface Reader {
  codes: Json[];
  at: number;
}

/** Rebuilds one explanation node from the document and the codes. */
function readNode(r: Reader, c: TopCondition | Condition, doc: PolicyDocument): ConditionExplanation {
  const code = r.codes[r.at] as number;
  if ("condition" in c) {
    if (code >= REFERENCE) {
      r.at++;
      return { kind: "reference", condition: c.condition, result: RESULT[code - REFERENCE]! };
    }
    return readNode(r, doc.conditions![c.condition]!, doc);
  }
  r.at++;
  if ("all" in c) return { kind: "all", result: RESULT[code]!, conditions: c.all.map((x) => readNode(r, x, doc)) };
  if ("any" in c) return { kind: "any", result: RESULT[code]!, conditions: c.any.map((x) => readNode(r, x, doc)) };
  if ("not" in c) return { kind: "not", result: RESULT[code]!, conditions: [readNode(r, c.not, doc)] };
  const out: ConditionExplanation = {
    kind: "fact",
    fact: c.fact,
    operator: c.operator,
    value: c.value ?? null,
    result: RESULT[code % 3]!,
  };
  if (c.path !== undefined) out.path = c.path;
  if (code >= 3) out.factValue = r.codes[r.at++] as Json;
  return out;
}
