// The names a policy may use: built-in facts, operators (json-rules-engine's and Vigil's),
// operator decorators. Validation and compilation both read these lists.

export const BUILTIN_FACTS = [
  "memory",
  "state",
  "now",
  "trigger",
  "changed",
  "idleMs",
  "stateAgeMs",
  "substrate",
] as const;
export type BuiltinFact = (typeof BUILTIN_FACTS)[number];

/** json-rules-engine 7's default operators. */
export const ENGINE_OPERATORS = [
  "equal",
  "notEqual",
  "in",
  "notIn",
  "contains",
  "doesNotContain",
  "lessThan",
  "lessThanInclusive",
  "greaterThan",
  "greaterThanInclusive",
] as const;

/** Vigil's operators over timestamps (ISO strings or epoch ms), taking ISO 8601 durations. */
export const TIME_OPERATORS = ["olderThan", "within"] as const;

/** json-rules-engine 7's operator decorators, written `decorator:operator`. */
export const OPERATOR_DECORATORS = ["someFact", "someValue", "everyFact", "everyValue", "swap", "not"] as const;

export const OPERATORS = [...ENGINE_OPERATORS, ...TIME_OPERATORS] as const;

/**
 * Negative operators, which may be true when the fact is missing: worth a warning to authors
 * where they are (policy-warnings.ts tries the operator, decorators and all, on a missing value).
 * `doesNotContain` is false there (json-rules-engine checks that its fact is an array first),
 * but `swap:doesNotContain` looks for the missing value in the list `value`, and is true.
 */
export const NEGATIVE_OPERATORS = new Set(["notEqual", "notIn", "doesNotContain"]);

export const OPERATOR_PATTERN = new RegExp(`^(?:(?:${OPERATOR_DECORATORS.join("|")}):)*(?:${OPERATORS.join("|")})$`);

export function isKnownOperator(op: string): boolean {
  return OPERATOR_PATTERN.test(op);
}

/** Splits `not:someFact:equal` into decorators and the base operator. */
export function splitOperator(op: string): { decorators: string[]; base: string } {
  const parts = op.split(":");
  const base = parts.pop() ?? "";
  return { decorators: parts, base };
}

/**
 * How deep into the condition's value `in` or `notIn` looks, under the operator's decorators
 * (json-rules-engine applies the leftmost first): each `swap` trades the fact's side for the
 * value's, so `swap:swap:in` looks in its value as `in` does, and each list decorator that goes
 * through the value (someValue and everyValue on its side, someFact and everyFact behind an odd
 * number of swaps) looks one list deeper. Null for any other operator, and for one that looks
 * in the fact (`swap:in`).
 */
export function valueLookupDepth(operator: string): number | null {
  const { decorators, base } = splitOperator(operator);
  if (base !== "in" && base !== "notIn") return null;
  let swapped = false;
  let depth = 0;
  for (const d of decorators) {
    if (d === "swap") swapped = !swapped;
    else if (d === "someValue" || d === "everyValue") depth += swapped ? 0 : 1;
    else if (d === "someFact" || d === "everyFact") depth += swapped ? 1 : 0;
  }
  return swapped ? null : depth;
}
