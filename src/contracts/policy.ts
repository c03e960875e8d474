// The policy file format as one zod schema: the envelope, json-rules-engine's rule shape and
// Vigil's event types. It validates a document into the policy model of core/policy.ts (the
// types are checked to agree at the end of this file); `schemas/policy.schema.json` is
// generated from it (see json-schema.ts). Every check that json-rules-engine would only hit at
// run time is made here, with a path.
//
// A refinement is code, which the generated JSON Schema cannot carry; where JSON Schema can say
// the same, `.meta()` beside the refinement says it (a reserved name as `not: {enum}`, one of two
// fields as `oneOf` of `required`), so that an editor refuses what the server refuses. The meta
// changes nothing zod accepts.
//
// The file is past 400 lines because it is the one schema of the format: each check sits beside
// the shape it checks, and its JSON Schema beside the check.

import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { DURATION_HELP, DURATION_PATTERN, parseDuration } from "../core/durations.ts";
import { BUILTIN_FACTS, OPERATOR_DECORATORS, OPERATOR_PATTERN, OPERATORS, splitOperator } from "../core/vocabulary.ts";
import { composeOperator } from "../core/operators.ts";
import { formatPath, PATH_HELP, parsePath } from "../core/paths.ts";
import { pathShape, SCALAR_FACTS } from "../core/fact-shapes.ts";
import { zoneName } from "../core/schedule.ts";
import {
  isFactRef,
  RESERVED_RULE_NAMES,
  RESERVED_TIMER_NAMES,
  type Condition,
  type EventDocument,
  type PolicyDocument,
  type RuleDocument,
} from "../core/policy.ts";
import { SharedConditions } from "./condition-graph.ts";
import { instantSchema } from "./instant.ts";
import { jsonObject, jsonValue } from "./json.ts";
import { eventTypeMessage, unknownOperatorMessage } from "./messages.ts";
import { conditionBudgetIssues, MAX_OPERATOR_DECORATORS, MAX_OPERATOR_LENGTH } from "./policy-budget.ts";

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const NAME_HELP = "1-64 characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit";

const name = z.string().regex(NAME_PATTERN, NAME_HELP);
/** A timer an event sets or cancels: not one of Vigil's own. */
const eventTimerName = name
  .refine((n) => !(RESERVED_TIMER_NAMES as readonly string[]).includes(n), {
    message: `the timer names ${RESERVED_TIMER_NAMES.join(", ")} are Vigil's own`,
  })
  .meta({ not: { enum: [...RESERVED_TIMER_NAMES] } });
const duration = z
  .string()
  .regex(DURATION_PATTERN, { message: `must be ${DURATION_HELP}` })
  .refine((s) => parseDuration(s) !== null, { message: `must be ${DURATION_HELP}` })
  .describe(`ISO 8601 duration, e.g. PT5M`);
const instant = instantSchema().describe("ISO 8601 date-time, e.g. 2026-03-01T02:00:00Z");
/**
 * The most schedules a policy may have. Finding a schedule's next tick can take tens of
 * milliseconds (one whose every tick falls in a daylight-saving gap), and a candidate policy
 * comes from any `read` token: this bounds what one document costs.
 */
export const MAX_SCHEDULES = 32;

const reason = z.string().max(500).optional().describe("Free text kept in the decision");

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The month and day names cron takes. */
const CRON_NAMES = new Set("jan feb mar apr may jun jul aug sep oct nov dec sun mon tue wed thu fri sat".split(" "));

function cronError(expr: string, tz: string | undefined): string | null {
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron takes 5 fields, or 6 with seconds first (got ${fields})`;
  // cron-parser reads `H`, anywhere in a field (`*/H`, `1-H`), as a value it picks at random on
  // every parse: a schedule's ticks would move each time it is armed again. The month and day
  // names (`THU`) are taken out first.
  const hashed = /h/i.test(expr.replace(/[a-z]{3}/gi, (w) => (CRON_NAMES.has(w.toLowerCase()) ? "" : w)));
  if (hashed) return "`H` (a value picked at random) is not allowed: write the values";
  try {
    CronExpressionParser.parse(expr, { strict: false, ...(tz ? { tz: zoneName(tz) } : {}) });
    return null;
  } catch (e) {
    return `invalid cron expression: ${(e as Error).message}`;
  }
}

export const scheduleSchema = z
  .strictObject({
    // policyLevelIssues refuses Vigil's own timer names (and duplicates, which JSON Schema cannot say).
    name: name
      .meta({ not: { enum: [...RESERVED_TIMER_NAMES] } })
      .describe("Timer name; the tick is an evaluation with trigger {kind: timer, name}"),
    // cronError counts the fields as the pattern does; the rest of cron's syntax is its own.
    cron: z
      .string()
      .meta({ pattern: String.raw`^\s*\S+(?:\s+\S+){4,5}\s*$` })
      .describe("5 fields, or 6 with seconds first"),
    // No zone has an empty name; the zone names themselves are the runtime's (Intl).
    timezone: z.string().refine(isTimeZone, { message: "unknown IANA time zone" }).meta({ minLength: 1 }).optional(),
  })
  .superRefine((s, ctx) => {
    const err = cronError(s.cron, s.timezone && isTimeZone(s.timezone) ? s.timezone : undefined);
    if (err) ctx.addIssue({ code: "custom", path: ["cron"], message: err });
  });

const factName = z.enum(BUILTIN_FACTS, {
  error: (iss) => `unknown fact ${JSON.stringify(iss.input)}: the built-in facts are ${BUILTIN_FACTS.join(", ")}`,
});
/**
 * parsePath's grammar (core/paths.ts) as a JSON Schema pattern: `$`, then `.name`, `[index]` or
 * `["key"]` where the key is JSON string text. parsePath is the authority; a test holds the two
 * together.
 */
export const PATH_SCHEMA_PATTERN = String.raw`^\$(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d+\]|\["(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"\])*$`;

const pathString = z
  .string()
  .refine((p) => parsePath(p) !== null, { message: `must be ${PATH_HELP}` })
  .meta({ pattern: PATH_SCHEMA_PATTERN })
  .describe(PATH_HELP);

export const factConditionSchema = z
  .strictObject({
    fact: factName.describe("A built-in fact"),
    path: pathString.optional(),
    operator: z
      .string()
      .max(MAX_OPERATOR_LENGTH, {
        abort: true,
        error: (iss) =>
          `the operator is ${String(iss.input).length} characters long: at most ${MAX_OPERATOR_LENGTH} are allowed`,
      })
      .regex(OPERATOR_PATTERN, { error: (iss) => unknownOperatorMessage(String(iss.input)) })
      // The generated JSON Schema takes this pattern instead, which counts the decorators as the
      // refinement below does, so editors flag an unknown operator and one decorated too often.
      .meta({
        pattern: `^(?:(?:${OPERATOR_DECORATORS.join("|")}):){0,${MAX_OPERATOR_DECORATORS}}(?:${OPERATORS.join("|")})$`,
      })
      .describe("A json-rules-engine operator (optionally decorated, e.g. not:equal) or olderThan/within"),
    value: jsonValue().describe("The value to compare with, or {fact, path?} to compare with another fact"),
    params: jsonObject.optional(),
    name: z.string().optional(),
    priority: z.number().int().min(1).optional(),
  })
  // json-schema.ts states the checks on `value` as if/then on the operator, for editors.
  .superRefine((c, ctx) => {
    const { base, decorators } = splitOperator(c.operator);
    // Each decorator wraps the operator in one more function: no author needs many.
    if (decorators.length > MAX_OPERATOR_DECORATORS) {
      ctx.addIssue({
        code: "custom",
        path: ["operator"],
        message: `the operator has ${decorators.length} decorators: at most ${MAX_OPERATOR_DECORATORS} are allowed`,
      });
      return;
    }
    // json-rules-engine throws at run time (a TypeError inside the operator) on these.
    // An object with a `fact` key is a reference to a fact, whatever the key holds.
    if (isObjectWithFact(c.value) && !isFactRef(c.value)) {
      ctx.addIssue({ code: "custom", path: ["value", "fact"], message: "must be the name of a fact" });
      return;
    }
    if (isFactRef(c.value)) {
      if (c.value.path !== undefined && parsePath(c.value.path) === null)
        ctx.addIssue({ code: "custom", path: ["value", "path"], message: `must be ${PATH_HELP}` });
      else refuseAlwaysThrowing(c, ctx);
      return;
    }
    // someValue and everyValue go through the value only while it is on the value's side: a
    // `swap` before them hands them the fact (`swap:someValue:equal` goes through the fact).
    const swapAt = decorators.indexOf("swap");
    const onValue = swapAt === -1 ? decorators : decorators.slice(0, swapAt);
    const listValue = onValue.includes("someValue") || onValue.includes("everyValue");
    // The time operators compare a timestamp with a duration: `value` is the duration, or under
    // someValue/everyValue a list of them, each of those decorators going one list deeper
    // (`someValue:everyValue:within` takes a list of lists); `swap` makes it the timestamp, unchecked.
    if ((base === "olderThan" || base === "within") && !decorators.includes("swap")) {
      const isDuration = (v: unknown) => typeof v === "string" && parseDuration(v) !== null;
      const lists = decorators.filter((d) => d === "someValue" || d === "everyValue").length;
      const durations = (v: unknown, depth: number): boolean =>
        depth === 0 ? isDuration(v) : Array.isArray(v) && v.every((x) => durations(x, depth - 1));
      if (!durations(c.value, lists))
        ctx.addIssue({
          code: "custom",
          path: ["value"],
          message: `"${c.operator}" takes ${"a list of ".repeat(Math.min(lists, 1))}${"lists of ".repeat(Math.max(lists - 1, 0))}${lists > 0 ? "durations, each " : ""}${DURATION_HELP}`,
        });
      return;
    }
    if (listValue && !Array.isArray(c.value)) {
      ctx.addIssue({ code: "custom", path: ["value"], message: `"${c.operator}" needs a list value` });
      return;
    }
    // `in` and `notIn` look in their value: a list (or a string); under someValue/everyValue,
    // in each of the value's items.
    if ((base === "in" || base === "notIn") && !decorators.includes("swap")) {
      const searchable = (v: unknown) => Array.isArray(v) || typeof v === "string";
      const items = listValue ? (c.value as unknown[]) : [c.value];
      const at = items.findIndex((v) => !searchable(v));
      if (at >= 0)
        ctx.addIssue({
          code: "custom",
          path: listValue ? ["value", at] : ["value"],
          message: listValue
            ? `"${c.operator}" looks in each item of its value: each must be a list (a string makes it a substring test)`
            : `"${base}" needs a list value (a string makes it a substring test)`,
        });
      if (at >= 0) return;
    }
    refuseAlwaysThrowing(c, ctx);
  });

/**
 * What a built-in fact holds, at `path`, whatever the object, when its shape says so: the
 * scalar facts (a path on them ignored); `memory`, `trigger` and `substrate` are objects and
 * `changed` a list, at a path with no steps; and the paths core/fact-shapes.ts knows. Null where
 * it may hold anything. `at` is the path, written as in a message, where the shape is the path's.
 */
function fixedShape(fact: string, path: string | undefined): { what: string; samples: unknown[]; at: string } | null {
  const segments = path === undefined || path === "" ? [] : parsePath(path);
  if (Object.hasOwn(SCALAR_FACTS, fact)) return { ...SCALAR_FACTS[fact]!, at: "" };
  if (segments === null) return null;
  if (segments.length > 0) {
    const known = pathShape(fact, segments);
    return known ? { ...known, at: ` at ${formatPath(segments)}` } : null;
  }
  if (fact === "changed") return { what: "a list", samples: [[], ["$.a"]], at: "" };
  return { what: "an object", samples: [{}], at: "" };
}

/**
 * Values for a side that may hold anything, one of which each operator that can throw takes when
 * any value does: a string and a list of lists to look in or go through, and an empty list and a
 * string (no list) for someFact and everyFact, which are false or true on them without a look.
 */
const ANYTHING: unknown[] = ["a", [["a"]], []];

/**
 * Refuses a comparison json-rules-engine throws on whenever it evaluates it, whatever memory
 * holds: `in`, `notIn` and `swap:in` look in a built-in fact that is never a list or a string
 * (`"value": {"fact": "now"}`), or `someValue`/`everyValue` go through one that is never a list;
 * or a constant value does, which the checks above leave to this one behind two `swap`s
 * (`swap:swap:in` with `5`).
 */
function refuseAlwaysThrowing(
  c: { fact: string; path?: string | undefined; operator: string; value: unknown },
  ctx: z.RefinementCtx,
): void {
  // Only looking in a value (indexOf) or going through one (some, every) throws on a shape.
  const { base, decorators } = splitOperator(c.operator);
  if (base !== "in" && base !== "notIn" && !decorators.some((d) => d === "someValue" || d === "everyValue")) return;
  const op = composeOperator(c.operator);
  const ref = isFactRef(c.value) ? fixedShape(c.value.fact, c.value.path) : null;
  // The samples of each side, null where it may hold anything.
  const values = isFactRef(c.value) ? (ref?.samples ?? null) : [c.value];
  const facts = fixedShape(c.fact, c.path);
  if (op === null || (values === null && facts === null)) return;
  const throwsOn = (fs: unknown[], vs: unknown[]) => {
    // The errors are only counted: without a stack trace each costs a fraction as much.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return fs.every((f) =>
        vs.every((v) => {
          try {
            op(f, v, 0);
            return false;
          } catch {
            return true;
          }
        }),
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  const whenever = "json-rules-engine throws whenever it evaluates this condition";
  // The value, when it makes the operator throw whatever the fact holds; else the fact. A fact
  // equal to one of the value's items may be found before the item it throws on
  // (`someValue:swap:swap:in` with [[5], 5] holds for 5): not whenever, then, but for any other.
  if (values !== null && throwsOn(ANYTHING, values))
    ctx.addIssue(
      ref === null
        ? {
            code: "custom",
            path: ["value"],
            message: `"${c.operator}" cannot look in or go through ${
              throwsOn(itemsOf(c.value), values)
                ? `this value: ${whenever}`
                : "an item of this value: json-rules-engine throws when it evaluates this condition on a fact found in none of the items before it"
            }`,
          }
        : {
            code: "custom",
            path: ["value", "fact"],
            message: `"${c.operator}" cannot look in or go through the fact ${(c.value as { fact: string }).fact}${ref.at}, which is always ${ref.what}: ${whenever}`,
          },
    );
  else if (facts !== null && throwsOn(facts.samples, values ?? ANYTHING))
    ctx.addIssue({
      code: "custom",
      path: ["fact"],
      message: `"${c.operator}" cannot look in or go through the fact ${c.fact}${facts.at}, which is always ${facts.what}: ${whenever}`,
    });
}

/** The first few distinct strings, numbers, booleans and nulls in `value`, however deep: facts it may hold. */
function itemsOf(value: unknown, found = new Set<unknown>()): unknown[] {
  if (value === null || typeof value !== "object") found.add(value);
  else if (Array.isArray(value))
    for (const item of value) {
      if (found.size >= 16) break;
      itemsOf(item, found);
    }
  return [...found];
}

/** An object with a `fact` key, which json-rules-engine reads as a reference to a fact. */
function isObjectWithFact(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.hasOwn(v, "fact");
}

const common = { name: z.string().optional(), priority: z.number().int().min(1).optional() };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    factConditionSchema,
    z.strictObject({ all: z.array(conditionSchema), ...common }),
    z.strictObject({ any: z.array(conditionSchema), ...common }),
    z.strictObject({ not: conditionSchema, ...common }),
    z.strictObject({ condition: z.string(), ...common }),
  ]),
);

export const topConditionSchema = z.union([
  z.strictObject({ all: z.array(conditionSchema), ...common }),
  z.strictObject({ any: z.array(conditionSchema), ...common }),
  z.strictObject({ not: conditionSchema, ...common }),
  z.strictObject({ condition: z.string(), ...common }),
]);

const oneOf = (a: string, b: string) => (p: Record<string, unknown>) => !(p[a] !== undefined && p[b] !== undefined);

export const eventSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("wake"), params: z.strictObject({ reason }).optional() }),
    z.strictObject({
      type: z.literal("hold-active"),
      params: z.strictObject({ for: duration.optional(), reason }).optional(),
    }),
    z.strictObject({
      type: z.literal("dormancy"),
      params: z
        .strictObject({
          mode: z.enum(["suspend", "stop"]).optional(),
          wakeAfter: duration.optional(),
          wakeAt: instant.optional(),
          reason,
        })
        .refine(oneOf("wakeAfter", "wakeAt"), { message: "give wakeAfter or wakeAt, not both" })
        .meta({ not: { required: ["wakeAfter", "wakeAt"] } })
        .optional(),
    }),
    z.strictObject({
      type: z.literal("schedule"),
      params: z
        .strictObject({
          name: eventTimerName,
          after: duration.optional(),
          at: instant.optional(),
          reason,
        })
        .refine((p) => (p.after === undefined) !== (p.at === undefined), {
          message: "give exactly one of after or at",
        })
        .meta({ oneOf: [{ required: ["after"] }, { required: ["at"] }] }),
    }),
    // Cancelling Vigil's own timers would lose what they stand for: a hold lease that never ends.
    z.strictObject({ type: z.literal("cancel"), params: z.strictObject({ name: eventTimerName, reason }) }),
  ],
  {
    error: (iss) =>
      iss.code === "invalid_union" && iss.note === "No matching discriminator"
        ? eventTypeMessage(iss.input)
        : undefined,
  },
);

export const ruleSchema = z.strictObject({
  name: name
    .refine((n) => !(RESERVED_RULE_NAMES as readonly string[]).includes(n), {
      message: `the rule names ${RESERVED_RULE_NAMES.join(", ")} are Vigil's own`,
    })
    .meta({ not: { enum: [...RESERVED_RULE_NAMES] } })
    .describe("Unique within the policy; decisions name the rules that fired"),
  priority: z.number().int().min(1).optional().describe("json-rules-engine priority: higher runs first"),
  conditions: topConditionSchema,
  event: eventSchema,
});

export const policySchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: name.describe("Must match the file name (rules/<name>.json)"),
    version: z.string().min(1).max(64).describe("The author's version; decisions record it"),
    description: z.string().optional(),
    defaults: jsonObject.optional().describe("Deep-merged under memory before evaluation; memory wins"),
    sleep: z.enum(["suspend", "stop"]).optional().describe("How dormancy puts compute to sleep (default suspend)"),
    dwell: z
      .strictObject({ minActive: duration.optional(), minDormant: duration.optional() })
      .optional()
      .describe("Minimum time in a state before the opposite outcome is carried out"),
    schedules: z
      .array(scheduleSchema)
      .max(MAX_SCHEDULES, { error: `at most ${MAX_SCHEDULES} schedules` })
      .optional()
      .describe(`Cron ticks that re-evaluate every object of the policy (at most ${MAX_SCHEDULES})`),
    conditions: z
      .record(z.string(), topConditionSchema)
      // policyLevelIssues refuses an empty name (json-schema.ts adds the keys no object may have).
      .meta({ propertyNames: { type: "string", minLength: 1 } })
      .optional()
      .describe("Shared conditions that rules reference as {condition: name}"),
    rules: z.array(ruleSchema).min(1),
  })
  .superRefine((p, ctx) => {
    for (const issue of policyLevelIssues(p)) ctx.addIssue({ code: "custom", ...issue });
  });

export interface PolicyIssue {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Checks across the whole document: duplicate rule and schedule names, shared-condition
 * references that do not resolve or refer to themselves, unknown facts in comparison values,
 * and the budget of how far the conditions expand (policy-budget.ts). Tolerates any shape, so
 * that validation reports these next to the shape errors instead of only once everything else
 * is fixed. Linear in the document and without recursion.
 */
export function policyLevelIssues(doc: unknown): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  if (!isObj(doc)) return out;
  // json-rules-engine cannot build an Engine with it, so no evaluation of the policy could run.
  if (isObj(doc.conditions) && Object.hasOwn(doc.conditions, ""))
    out.push({
      path: ["conditions", ""],
      message: "a shared condition needs a name: json-rules-engine refuses an empty one",
    });
  const seen = new Map<string, number>();
  list(doc.rules).forEach((r, i) => {
    if (!isObj(r) || typeof r.name !== "string") return;
    const first = seen.get(r.name);
    if (first !== undefined)
      out.push({ path: ["rules", i, "name"], message: `duplicate rule name (also rules[${first}])` });
    else seen.set(r.name, i);
  });
  const schedules = new Map<string, number>();
  list(doc.schedules).forEach((sch, i) => {
    if (!isObj(sch) || typeof sch.name !== "string") return;
    const first = schedules.get(sch.name);
    if ((RESERVED_TIMER_NAMES as readonly string[]).includes(sch.name))
      out.push({
        path: ["schedules", i, "name"],
        message: `"${sch.name}" is one of Vigil's own timers (${RESERVED_TIMER_NAMES.join(", ")}): name the schedule otherwise`,
      });
    else if (first !== undefined)
      out.push({ path: ["schedules", i, "name"], message: `duplicate schedule name (also schedules[${first}])` });
    else schedules.set(sch.name, i);
  });
  // A policy schedule's timer is the schedule's: an event setting or cancelling it by name would
  // be undone by the next tick's re-arming.
  list(doc.rules).forEach((r, i) => {
    const event = isObj(r) && isObj(r.event) ? r.event : null;
    const params = event && isObj(event.params) ? event.params : null;
    if ((event?.type === "schedule" || event?.type === "cancel") && typeof params?.name === "string")
      if (schedules.has(params.name))
        out.push({
          path: ["rules", i, "event", "params", "name"],
          message: `"${params.name}" is one of this policy's schedules; an event cannot ${event.type === "cancel" ? "cancel" : "set"} it`,
        });
  });
  const shared = new SharedConditions(isObj(doc.conditions) ? doc.conditions : {});
  list(doc.rules).forEach((r, i) => {
    if (isObj(r)) out.push(...referenceIssues(r.conditions, ["rules", i, "conditions"], shared));
  });
  for (const key of shared.names())
    out.push(...referenceIssues((doc.conditions as Raw)[key], ["conditions", key], shared));
  // A shared condition that refers to itself, directly or not, never terminates.
  const cycles = shared.cycles();
  for (const key of shared.names()) {
    const knot = cycles.get(key);
    if (knot) out.push({ path: ["conditions", key], message: cycleMessage(knot.cycle, knot.at) });
  }
  out.push(...conditionBudgetIssues(doc, shared));
  return out;
}

/** The most names a cycle is written with; a longer one is cut, and its length given. */
const CYCLE_NAMES_SHOWN = 8;

/**
 * "shared condition refers to itself: a -> b -> a", from the condition's place `at` on the
 * cycle; for one off it (-1), the cycle it is knotted with.
 */
function cycleMessage(cycle: string[], at: number): string {
  const show = (n: string) => (NAME_PATTERN.test(n) ? n : JSON.stringify(n));
  const from = Math.max(at, 0);
  const names = Array.from({ length: Math.min(cycle.length, CYCLE_NAMES_SHOWN - 1) }, (_, i) =>
    show(cycle[(from + i) % cycle.length]!),
  );
  const written =
    cycle.length < CYCLE_NAMES_SHOWN
      ? `${names.join(" -> ")} -> ${names[0]}`
      : `${names.join(" -> ")} -> … -> ${names[0]} (a cycle of ${cycle.length})`;
  return at >= 0
    ? `shared condition refers to itself: ${written}`
    : `shared condition refers to itself, through others that refer back to it (one cycle among them: ${written})`;
}

/** References to no shared condition and unknown facts in comparison values, in document order. */
function referenceIssues(root: unknown, at: (string | number)[], shared: SharedConditions): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  const stack: [unknown, (string | number)[]][] = [[root, at]];
  while (stack.length > 0) {
    const [c, path] = stack.pop()!;
    if (!isObj(c)) continue;
    const children = (key: "all" | "any", xs: unknown[]) => {
      for (let i = xs.length - 1; i >= 0; i--) stack.push([xs[i], [...path, key, i]]);
    };
    if (typeof c.condition === "string") {
      if (!shared.has(c.condition))
        out.push({
          path: [...path, "condition"],
          message: `no shared condition named ${JSON.stringify(c.condition)} in "conditions"`,
        });
    } else if (Array.isArray(c.all)) children("all", c.all);
    else if (Array.isArray(c.any)) children("any", c.any);
    else if (c.not !== undefined) stack.push([c.not, [...path, "not"]]);
    else if (isFactRef(c.value) && !BUILTIN_FACTS.includes(c.value.fact as never))
      out.push({ path: [...path, "value", "fact"], message: "unknown fact" });
  }
  return out;
}

// The schema and the model agree, both ways: a change to one that the other does not follow
// fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T => true as T;
agree<Same<z.output<typeof policySchema>, PolicyDocument>>();
agree<Same<z.output<typeof ruleSchema>, RuleDocument>>();
agree<Same<z.output<typeof eventSchema>, EventDocument>>();
