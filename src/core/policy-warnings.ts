// json-rules-engine's coercion corners made visible to policy authors: warnings on a valid
// policy, each at the JSON path of the condition that deserves one.

import { prefixProblems, type Problem } from "./errors.ts";
import { checkDocument, MAX_CHECKED_DEPTH } from "./memory-limits.ts";
import { isPlainObject } from "./json.ts";
import { pathShape, SCALAR_FACTS } from "./fact-shapes.ts";
import { formatPath, parsePath, type PathSegment } from "./paths.ts";
import { isFactRef, type Condition, type PolicyDocument } from "./policy.ts";
import { composeOperator } from "./operators.ts";
import { NEGATIVE_OPERATORS, splitOperator, valueLookupDepth } from "./vocabulary.ts";

/**
 * `in` on a string is a substring test, numeric operators coerce numeric strings (`"10" > 9`),
 * negative operators pass on a missing path, and `swap:in` throws on one.
 */
export function policyWarnings(policy: PolicyDocument): Problem[] {
  const out: Problem[] = [];
  const visit = (c: Condition, path: PathSegment[]): void => {
    if ("all" in c) return c.all.forEach((x, i) => visit(x, [...path, "all", i]));
    if ("any" in c) return c.any.forEach((x, i) => visit(x, [...path, "any", i]));
    if ("not" in c) return visit(c.not, [...path, "not"]);
    if ("condition" in c) return;
    const { base } = splitOperator(c.operator);
    const at = formatPath(path);
    // `in` looks in its value (an even number of swaps puts it back there: `swap:swap:in`), and
    // under list decorators in each item of it, one list deeper for each of them: a string
    // there is a substring test (`in` with "abc" holds for "b"; `someValue:in` with ["ab"] for "a").
    const depth = valueLookupDepth(c.operator);
    const item = depth === null ? null : firstStringAt(c.value, depth);
    if (item !== null)
      out.push({
        path: `${at}.value${item}`,
        message:
          depth === 0
            ? `"${c.operator}" with a string value is a substring test, not list membership`
            : `"${c.operator}" looks in each item of its value, and a string item is a substring test, not list membership: write a list`,
      });
    if (base.startsWith("lessThan") || base.startsWith("greaterThan")) {
      if (typeof c.value === "string")
        out.push({
          path: `${at}.value`,
          message: `"${base}" compares with a string: JavaScript coerces ("10" > 9 is true, "abc" > 1 is false)`,
        });
    }
    // A path on a fact that is never an object is ignored (json-rules-engine reads the fact
    // whole), so it is never missing: say that instead of what a missing value would do.
    const scalar = c.path !== undefined && Object.hasOwn(SCALAR_FACTS, c.fact) ? SCALAR_FACTS[c.fact]! : null;
    if (scalar)
      out.push({
        path: `${at}.path`,
        message: `a path on the ${c.fact} fact is ignored: ${c.fact} is ${scalar.what}, and the condition compares it whole`,
      });
    const defaulted = c.fact === "memory" && c.path !== undefined && hasDefault(policy, c.path);
    const present = defaulted || (c.path !== undefined && neverMissing(c.fact, c.path));
    if (
      NEGATIVE_OPERATORS.has(base) &&
      c.path !== undefined &&
      !isFactRef(c.value) &&
      !present &&
      trueOnMissing(c.operator, c.value)
    )
      out.push({
        path: `${at}.operator`,
        message: `"${c.operator}" is true when ${c.path} is missing from ${c.fact === "memory" ? "memory" : `the ${c.fact} fact`}`,
      });
    // An operator that throws on a missing value (`swap:in` looks for the value in the fact,
    // and a missing fact has no indexOf) fails the whole evaluation, not just its rule: an object
    // whose memory lacks the path cannot be created, and every fact posted to it is refused,
    // until something sets the path.
    if (c.path !== undefined && !isFactRef(c.value) && !present && throwsOnMissing(c.operator, c.value))
      out.push({
        path: `${at}.operator`,
        message: `"${c.operator}" throws when ${c.path} is missing from ${c.fact === "memory" ? "memory" : `the ${c.fact} fact`}, and the evaluation fails: give it a default, or guard it with a condition of higher priority in the same all`,
      });
    // `in` looks in its value whatever the condition's fact holds: a value naming another fact at
    // a path that is missing fails the evaluation the same way.
    const ref = isFactRef(c.value) ? c.value : null;
    if (
      ref?.path !== undefined &&
      !(ref.fact === "memory" ? hasDefault(policy, ref.path) : neverMissing(ref.fact, ref.path)) &&
      throwsWithoutValue(c.operator)
    )
      out.push({
        path: `${at}.value.path`,
        message: `"${c.operator}" throws when ${ref.path} is missing from ${ref.fact === "memory" ? "memory" : `the ${ref.fact} fact`}, and the evaluation fails: give it a default, or guard it with a condition of higher priority in the same all`,
      });
    // Facts refuse such integers, so memory holds one only from the policy's own defaults
    // (warned about below): elsewhere an equality with one never holds.
    if (EQUALITIES.has(base) && !defaulted)
      for (const [value, where] of Array.isArray(c.value)
        ? c.value.map((v, i) => [v, `[${i}]`] as const)
        : [[c.value, ""] as const])
        if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value))
          out.push({
            path: `${at}.value${where}`,
            message: `integers beyond ±${Number.MAX_SAFE_INTEGER} may have lost digits (this one reads as ${value}), and memory never holds one: compare with a string`,
          });
    if (base === "equal" && c.fact === "memory" && c.path === undefined)
      out.push({ path: `${at}.path`, message: "comparing the whole memory document: did you mean to give a path?" });
  };
  policy.rules.forEach((r, i) => visit(r.conditions, ["rules", i, "conditions"]));
  for (const [key, c] of Object.entries(policy.conditions ?? {})) visit(c, ["conditions", key]);
  // Memory as facts would leave it: an integer past 2^53 has already lost digits.
  const defaults = checkDocument(policy.defaults ?? {}, {
    maxDepth: MAX_CHECKED_DEPTH,
    numbers: "written",
    keys: false,
  });
  out.push(...prefixProblems(defaults, "$.defaults"));
  return out;
}

/**
 * Whether the operator, decorators and all, holds on a missing value: `notEqual` and
 * `swap:notEqual` do, `not:notEqual` and `someFact:notEqual` (a missing fact is no list) do not.
 */
function trueOnMissing(operator: string, value: unknown): boolean {
  try {
    return composeOperator(operator)?.(undefined, value, 0) === true;
  } catch {
    return false;
  }
}

/** Whether the operator, decorators and all, throws on a missing value (`swap:in`, `not:swap:notIn`). */
function throwsOnMissing(operator: string, value: unknown): boolean {
  try {
    composeOperator(operator)?.(undefined, value, 0);
    return false;
  } catch {
    return true;
  }
}

/** Whether the operator throws on a missing value to compare with, whatever the fact holds (`in`). */
function throwsWithoutValue(operator: string): boolean {
  const op = composeOperator(operator);
  return (
    op !== null &&
    [undefined, 0, "a", [1], {}].every((fact) => {
      try {
        op(fact, undefined, 0);
        return false;
      } catch {
        return true;
      }
    })
  );
}

/** The path (`[0][1]`) of the first string `depth` lists deep in `value`, or null. */
function firstStringAt(value: unknown, depth: number): string | null {
  if (depth === 0) return typeof value === "string" ? "" : null;
  if (!Array.isArray(value)) return null;
  for (const [i, item] of value.entries()) {
    const inner = firstStringAt(item, depth - 1);
    if (inner !== null) return `[${i}]${inner}`;
  }
  return null;
}

/**
 * Whether the fact at the path is there in every evaluation (core/fact-shapes.ts: a shape that
 * is never missing; on a fact never an object, the path is ignored).
 */
function neverMissing(fact: string, path: string): boolean {
  if (Object.hasOwn(SCALAR_FACTS, fact)) return true;
  const segments = parsePath(path);
  const shape = segments === null ? undefined : pathShape(fact, segments);
  return shape !== undefined && !shape.samples.includes(undefined);
}

/** Operators that hold for one value exactly (or one in a list). */
const EQUALITIES = new Set(["equal", "notEqual", "in", "notIn", "contains", "doesNotContain"]);

/**
 * A memory path the policy's `defaults` fill in is taken as never missing, when they fill it
 * through objects only: objects merge, but a list in memory replaces the default's whole, so a
 * path into a default list (`$.tags[0]` with `"tags": [1]`) is missing when memory holds `[]`.
 * (The same holds of a string's characters.) Memory holding a scalar where a default has an
 * object (`{"queue": 5}` over `"queue": {"depth": 0}`) replaces it too, and is not counted: every
 * nested default would then be warned about (docs/policy-authors.md says so).
 */
function hasDefault(policy: PolicyDocument, path: string): boolean {
  const segments = parsePath(path);
  if (segments === null) return false;
  let at: unknown = policy.defaults ?? {};
  for (const segment of segments) {
    const key = String(segment);
    if (!isPlainObject(at) || !Object.hasOwn(at, key)) return false;
    at = at[key];
  }
  return at !== undefined;
}
