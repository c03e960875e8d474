// JSON Schema generated from the zod policy schema, so editors complete and check rule files.
// `npm run schemas` writes schemas/policy.schema.json; a test fails when the file drifts.
//
// Editors check with it, so it should refuse what the server refuses wherever JSON Schema can
// say so. The zod schema says most of it with `.meta()` beside each refinement (policy.ts); the
// override below adds what spans many schemas (every record, every duration) or ties a field to
// its sibling (a comparison's value to its operator). What JSON Schema cannot say, only
// `vigil validate` checks (docs/policy-authors.md): the file name, cron syntax and time zone
// names, duplicate names, references between shared conditions, the 100 years of a duration as
// a whole, an instant that its offset moves out of the years 0000 to 9999 in UTC, an item past
// the first that an operator with swaps among other decorators throws on, the budget.

import { z } from "zod";
import { DURATION_PATTERN, MAX_DURATION_MS } from "../core/durations.ts";
import { FORBIDDEN_KEYS } from "../core/memory-limits.ts";
import { BUILTIN_FACTS, OPERATOR_DECORATORS } from "../core/vocabulary.ts";
import { MAX_OPERATOR_DECORATORS } from "./policy-budget.ts";
import { factConditionSchema, PATH_SCHEMA_PATTERN, policySchema } from "./policy.ts";

export const POLICY_SCHEMA_FILE = "schemas/policy.schema.json";

export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, {
    io: "input",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      // documentBudgetIssues refuses these keys in every object of a policy. The objects with
      // fixed keys are strict; the others (defaults, params, shared conditions, any JSON value)
      // are records.
      if (zodSchema._zod.def.type === "record")
        jsonSchema.propertyNames = { ...(jsonSchema.propertyNames as object), not: { enum: [...FORBIDDEN_KEYS] } };
      if (jsonSchema.pattern === DURATION_PATTERN.source) jsonSchema.pattern = DURATION_SCHEMA_PATTERN;
      if (zodSchema === factConditionSchema) Object.assign(jsonSchema, COMPARISON_VALUE_RULES);
    },
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://vigil.dev/schemas/policy.schema.json",
    title: "Vigil policy",
    description: "A Vigil policy file: json-rules-engine rules plus Vigil's envelope. See docs/policy-authors.md.",
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

/**
 * A pattern for the whole numbers 0 to `n`, leading zeros allowed. For 250: shorter numbers,
 * then those that stay below it from one digit on, then 250 itself: 0*(?:\d{1,2}|[01]\d{2}|2[0-4]\d|250).
 */
function upTo(n: number): string {
  const digits = String(n);
  const any = (count: number) => (count === 0 ? "" : count === 1 ? "\\d" : `\\d{${count}}`);
  const alternatives = digits.length > 1 ? [`\\d{1,${digits.length - 1}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const below = d === 1 ? "0" : d === 2 ? "[01]" : `[0-${d - 1}]`;
    if (d > 0) alternatives.push(`${digits.slice(0, i)}${below}${any(digits.length - i - 1)}`);
  }
  return `0*(?:${[...alternatives, digits].join("|")})`;
}

const UNIT_MS = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 };

/**
 * The duration grammar with each part's whole number at most that unit's count in 100 years
 * (5214 weeks, 36500 days, ...), so that an editor flags P99999W. A fraction past the bound and
 * parts that add up past 100 years are parseDuration's to refuse.
 */
export const DURATION_SCHEMA_PATTERN = Object.entries(UNIT_MS).reduce(
  (pattern, [unit, ms]) =>
    pattern.replace(`\\d+(?:\\.\\d+)?${unit}`, `${upTo(Math.floor(MAX_DURATION_MS / ms))}(?:\\.\\d+)?${unit}`),
  DURATION_PATTERN.source,
);

const operatorMatches = (pattern: string) => ({ properties: { operator: { pattern } } });
const valueIs = (schema: object) => ({ properties: { value: schema } });
/** The operators on `bases` with any decorators but swap (which makes the value the fact's side). */
const unswapped = (bases: string[]) =>
  operatorMatches(`^(?:(?:${OPERATOR_DECORATORS.filter((d) => d !== "swap").join("|")}):)*(?:${bases.join("|")})$`);
/**
 * At least `n` of someValue and everyValue before any swap: each compares with each item of a
 * list, one list deeper (after a swap they go through the fact instead).
 */
const listValues = (n: number) => {
  const others = `(?:(?:${OPERATOR_DECORATORS.filter((d) => d !== "swap").join("|")}):)*`;
  return operatorMatches(`^${`${others}(?:someValue|everyValue):`.repeat(n)}`);
};
const duration = { type: "string", pattern: DURATION_SCHEMA_PATTERN };
/** `schema` inside `depth` lists. */
const nested = (schema: object, depth: number): object =>
  depth === 0 ? schema : { type: "array", items: nested(schema, depth - 1) };
/** A duration inside as many lists as the operator has someValue and everyValue decorators. */
const durations = (depth = 0): object =>
  depth === MAX_OPERATOR_DECORATORS
    ? valueIs(nested(duration, depth))
    : when(listValues(depth + 1), durations(depth + 1), valueIs(nested(duration, depth)));
const searchable = { type: ["array", "string"] };

/**
 * What the operator's decorators do to the value on the way, as patterns. `not` changes no value,
 * and an even number of `swap`s puts the value back on its side (`swap:swap:in` looks in its
 * value as `in` does); an odd number puts it on the fact's. Each of the value's lists is gone
 * through by someValue/everyValue on the value's side, which throw on anything else, and by
 * someFact/everyFact on the fact's, which pass anything else over; both reach its first item
 * whatever the fact holds.
 */
const EVEN = "(?:not:)*(?:swap:(?:not:)*swap:(?:not:)*)*";
const ODD = `${EVEN}swap:(?:not:)*`;
/** A step through one of the value's lists, on the value's side (even) or the fact's (odd). */
const STEP = { even: "(?:someValue|everyValue):", odd: "(?:someFact|everyFact):" } as const;
type Side = keyof typeof STEP;

/** The swaps `steps` take at the least: one at each change of side. */
const swapsOf = (steps: Side[]) => steps.filter((side, i) => side !== (steps[i - 1] ?? "even")).length;

/**
 * Every way through the value's lists, as the side each step is taken on, that fits in
 * MAX_OPERATOR_DECORATORS decorators with the swaps it needs between its steps.
 */
function stepSequences(): Side[][] {
  const all: Side[][] = [[]];
  for (let i = 0; i < all.length; i++)
    for (const side of ["even", "odd"] as const) {
      const next = [...all[i]!, side];
      if (next.length + swapsOf(next) <= MAX_OPERATOR_DECORATORS) all.push(next);
    }
  return all;
}

/** The pattern of the operator's decorators up to and with `steps`, from the value's side. */
const stepsPattern = (steps: Side[]) =>
  steps.map((side, i) => `${side === (steps[i - 1] ?? "even") ? EVEN : ODD}${STEP[side]}`).join("");

/** `schema` for the first item reached through `steps`: each a list's first item, if a list. */
const firstItemThrough = (steps: Side[], schema: object): object =>
  steps.length === 0 ? schema : { prefixItems: [firstItemThrough(steps.slice(1), schema)] };

/**
 * The values whose first items json-rules-engine always reaches, and throws on: a step on the
 * value's side through what is not a list (`swap:swap:someValue:equal` with `1`,
 * `someValue:someValue:equal` with `[1]`), or `in`/`notIn` looking, with the value back on its
 * side, in what is neither a list nor a string (`someValue:swap:swap:in` with `[5]`,
 * `swap:swap:in` with `5`). The server refuses each (policy.ts, refuseAlwaysThrowing).
 */
function alwaysThrowing(): object[] {
  const rules: object[] = [];
  for (const steps of stepSequences()) {
    const last = steps.at(-1) ?? "even";
    if (steps.length > 0 && last === "even")
      rules.push(
        when(
          operatorMatches(`^${stepsPattern(steps)}`),
          valueIs(firstItemThrough(steps.slice(0, -1), { type: "array" })),
        ),
      );
    const back = last === "even" ? EVEN : ODD;
    // Back on the value's side: one swap more from the fact's.
    if (steps.length + swapsOf(steps) + (last === "even" ? 0 : 1) <= MAX_OPERATOR_DECORATORS)
      rules.push(
        when(
          operatorMatches(`^${stepsPattern(steps)}${back}(?:in|notIn)$`),
          valueIs(firstItemThrough(steps, searchable)),
        ),
      );
  }
  return rules;
}

/** JSON Schema's if/then/else. */
function when(condition: object, then: object, otherwise?: object): object {
  // The rule is for objects taken for promises; this one is a schema, never awaited.
  // oxlint-disable-next-line unicorn/no-thenable
  return { if: condition, then, ...(otherwise ? { else: otherwise } : {}) };
}

/** factConditionSchema's checks on `value` (policy.ts), as JSON Schema on the condition. */
const COMPARISON_VALUE_RULES = when(
  // {fact, path?} reads another fact: a built-in one, at a path of the grammar.
  valueIs({ type: "object", required: ["fact"] }),
  valueIs({
    properties: { fact: { enum: [...BUILTIN_FACTS] }, path: { type: "string", pattern: PATH_SCHEMA_PATTERN } },
  }),
  {
    allOf: [
      when(listValues(1), valueIs({ type: "array" })),
      // olderThan and within take a duration, or a list of them (of lists, under two decorators).
      when(unswapped(["olderThan", "within"]), durations()),
      // in and notIn look in a list (a string makes them a substring test), or in each item of one.
      when(unswapped(["in", "notIn"]), when(listValues(1), valueIs({ items: searchable }), valueIs(searchable))),
      ...alwaysThrowing(),
    ],
  },
);
