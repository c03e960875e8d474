// JSON Schema generated from the zod policy schema, so editors complete and check rule files.
// `npm run schemas` writes schemas/policy.schema.json; a test fails when the file drifts.
//
// Editors check with it, so it should refuse what the server refuses wherever JSON Schema can
// say so. The zod schema says most of it with `.meta()` beside each refinement (policy.ts); the
// override below adds what spans many schemas (every record, every duration) or ties a field to
// its sibling (a comparison's value to its operator). What JSON Schema cannot say, only
// `vigil validate` checks (docs/policy-authors.md): the file name, cron syntax and time zone
// names, duplicate names, references between shared conditions, the 100 years of a duration as
// a whole, an instant that its offset moves out of the years 0000 to 9999 in UTC, a value that
// an operator with swaps among other decorators always throws on, the budget.

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
 * `in` and `notIn` with only `not` and an even number of `swap`s: each pair of swaps puts the
 * value back where the operator looks (`swap:swap:in` looks in its value, as `in` does).
 */
const swappedBack = operatorMatches(`^(?:not:)*(?:swap:(?:not:)*swap:(?:not:)*)*(?:in|notIn)$`);
/**
 * `n` of someValue and everyValue with only `not` between: each goes through the items of what
 * the one before it hands over, and the first item is always reached, so it must be a list
 * whatever the fact holds (`someValue:someValue:equal` throws on `[1]`).
 */
const firstItemsLists = (n: number) => operatorMatches(`^${"(?:not:)*(?:someValue|everyValue):".repeat(n)}`);
/** A list whose first item (if any) is a list, and so on `depth` lists deep. */
const firstLists = (depth: number): object =>
  depth === 0 ? { type: "array" } : { type: "array", prefixItems: [firstLists(depth - 1)] };

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
      // Under two of them or more, with nothing but `not` between, the first items are lists too.
      ...Array.from({ length: MAX_OPERATOR_DECORATORS - 1 }, (_, i) =>
        when(firstItemsLists(i + 2), valueIs(firstLists(i + 1))),
      ),
      // olderThan and within take a duration, or a list of them (of lists, under two decorators).
      when(unswapped(["olderThan", "within"]), durations()),
      // in and notIn look in a list (a string makes them a substring test), or in each item of one.
      when(unswapped(["in", "notIn"]), when(listValues(1), valueIs({ items: searchable }), valueIs(searchable))),
      when(swappedBack, valueIs(searchable)),
    ],
  },
);
