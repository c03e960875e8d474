// The budget every policy is checked against (issue 10): a few kilobytes of policy must not
// describe billions of condition nodes, nest past what the evaluators recurse through, or
// carry operators no author writes. Each refusal is an ordinary problem naming the limit.

import { describe, expect, test } from "vitest";
import {
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  MAX_OPERATOR_DECORATORS,
  MAX_OPERATOR_LENGTH,
  MAX_POLICY_CHARS,
  MAX_POLICY_DEPTH,
} from "../../src/contracts/policy-budget.ts";
import { policyLevelIssues } from "../../src/contracts/policy.ts";
import { validatePolicy, type ValidationResult } from "../../src/contracts/validate-policy.ts";
import { PATH_HELP } from "../../src/core/paths.ts";

const fact = (value: unknown = 0) => ({ fact: "now", operator: "equal", value });
const policy = (rules: unknown[], conditions?: Record<string, unknown>) => ({
  name: "probe",
  version: "1",
  ...(conditions ? { conditions } : {}),
  rules,
});
const rule = (conditions: unknown, name = "r") => ({ name, conditions, event: { type: "wake" } });

function errorsOf(v: ValidationResult) {
  if (v.valid) throw new Error("expected the policy to be refused");
  return v.errors;
}

/** The most times validation reads any one shared condition: each is walked once, its result kept. */
const READS_PER_CONDITION = 4;

/**
 * Validates, counting how often each shared condition is read (a proxy over `conditions`), and
 * fails the test past READS_PER_CONDITION. A walk that expanded references would read c0 of a
 * bomb once per path to it (2^30 times); one that re-walked a chain or a cycle from each member,
 * once per member. The work is counted, not timed.
 */
function boundedValidate(doc: unknown): ValidationResult {
  return withCountedReads(doc, validatePolicy);
}

function withCountedReads<T>(doc: unknown, check: (doc: never) => T): T {
  const d = doc as { conditions?: Record<string, unknown> };
  if (!d.conditions) return check(doc as never);
  const reads = new Map<PropertyKey, number>();
  const counted = new Proxy(d.conditions, {
    get(target, key, receiver) {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(target, key, receiver);
    },
  });
  const result = check({ ...d, conditions: counted } as never);
  expect(reads.size).toBeGreaterThan(0);
  expect(Math.max(...reads.values())).toBeLessThanOrEqual(READS_PER_CONDITION);
  return result;
}

/** c0 = a fact, c(n) = all[c(n-1), c(n-1)]: about 2 KB that json-rules-engine expands to 2^32 nodes. */
export function bomb(levels = 30) {
  const conditions: Record<string, unknown> = { c0: { all: [fact()] } };
  for (let i = 1; i <= levels; i++)
    conditions[`c${i}`] = { all: [{ condition: `c${i - 1}` }, { condition: `c${i - 1}` }] };
  return policy([rule({ condition: `c${levels}` })], conditions);
}

describe("expanded condition nodes", () => {
  test("a shared-condition bomb is refused without expanding it, at the condition that first exceeds the limit", () => {
    // c0 is 2 nodes; a reference counts itself and its target: c(n) = 1 + 2 * (1 + c(n-1)),
    // which is 5 * 2^n - 3; the rule's reference to c30 is one more.
    const errors = errorsOf(boundedValidate(bomb(30)));
    const limit = `at most ${MAX_CONDITION_NODES} are allowed`;
    expect(errors).toContainEqual({
      path: "$.conditions.c11",
      message: `expands to 10237 condition nodes, shared conditions counted at every reference: ${limit}`,
    });
    expect(errors).toContainEqual({
      path: "$.rules",
      message: `the rules expand to 5368709118 condition nodes, shared conditions counted at every reference: ${limit}`,
    });
    // Each level also nests two deeper (the all and the reference): c(n) nests 2n + 2 levels.
    expect(errors).toContainEqual({
      path: "$.conditions.c16",
      message: `conditions nest 34 levels deep, shared conditions expanded: at most ${MAX_CONDITION_DEPTH} are allowed`,
    });
    // Only the culprits among the shared conditions: c12..c30 exceed because they use c11.
    expect(errors.map((e) => e.path)).toEqual([
      "$.conditions.c11",
      "$.conditions.c16",
      "$.rules[0].conditions",
      "$.rules",
    ]);
  });

  test("the limit counts across all rules: exactly the limit is valid, one node more is not", () => {
    // s is 10 nodes, so 900 references to it and their all are 9901; the second rule 1 + m.
    const shared = { s: { all: Array.from({ length: 9 }, () => fact()) } };
    const refs = { all: Array.from({ length: 900 }, () => ({ condition: "s" })) };
    const facts = (m: number) => ({ all: Array.from({ length: m }, () => fact()) });
    expect(validatePolicy(policy([rule(refs, "a"), rule(facts(98), "b")], shared)).valid).toBe(true);
    expect(errorsOf(validatePolicy(policy([rule(refs, "a"), rule(facts(99), "b")], shared)))).toEqual([
      {
        path: "$.rules",
        message: `the rules expand to 10001 condition nodes, shared conditions counted at every reference: at most ${MAX_CONDITION_NODES} are allowed`,
      },
    ]);
  });
});

describe("expanded condition depth", () => {
  /** c0 = all[fact] (2 levels), c(i) = a reference to c(i-1) (one level more). */
  const chain = (n: number) => {
    const conditions: Record<string, unknown> = { c0: { all: [fact()] } };
    for (let i = 1; i <= n; i++) conditions[`c${i}`] = { condition: `c${i - 1}` };
    return conditions;
  };

  test(`conditions may nest ${MAX_CONDITION_DEPTH} levels through shared conditions, not one more`, () => {
    // A rule referring to c(n) nests n + 3 levels.
    expect(validatePolicy(policy([rule({ condition: "c29" })], chain(29))).valid).toBe(true);
    expect(errorsOf(validatePolicy(policy([rule({ condition: "c30" })], chain(30))))).toEqual([
      {
        path: "$.rules[0].conditions",
        message: `conditions nest 33 levels deep, shared conditions expanded: at most ${MAX_CONDITION_DEPTH} are allowed`,
      },
    ]);
  });

  test("a chain of thousands of references is refused without re-walking it or a stack overflow", () => {
    const errors = errorsOf(boundedValidate(policy([rule({ condition: "c5000" })], chain(5000))));
    expect(errors).toContainEqual({
      path: "$.conditions.c31",
      message: `conditions nest 33 levels deep, shared conditions expanded: at most ${MAX_CONDITION_DEPTH} are allowed`,
    });
    expect(errors.filter((e) => e.path.startsWith("$.conditions"))).toHaveLength(1);
  });

  test("a cycle of thousands of shared conditions is found reading each one a bounded number of times", () => {
    const n = 9000;
    const key = (i: number) => (i % n).toString(36).padStart(3, "0");
    const conditions: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) conditions[key(i)] = { condition: key(i + 1) };
    // The cross-document checks alone (validation adds zod's parse of 9,000 conditions).
    const issues = withCountedReads(policy([rule({ all: [fact()] })], conditions), policyLevelIssues);
    const cyclic = issues.filter((e) => e.message.startsWith("shared condition refers to itself"));
    expect(cyclic).toHaveLength(n);
    expect(cyclic.map((e) => e.path[1])).toEqual(Object.keys(conditions));
  });
});

describe("operators", () => {
  test(`an operator may carry ${MAX_OPERATOR_DECORATORS} decorators, not more`, () => {
    const op = (k: number) => `${"not:".repeat(k)}equal`;
    expect(validatePolicy(policy([rule({ all: [{ ...fact(), operator: op(4) }] })])).valid).toBe(true);
    expect(errorsOf(validatePolicy(policy([rule({ all: [{ ...fact(), operator: op(5) }] })])))).toEqual([
      {
        path: "$.rules[0].conditions.all[0].operator",
        message: `the operator has 5 decorators: at most ${MAX_OPERATOR_DECORATORS} are allowed`,
      },
    ]);
  });

  test(`an operator longer than ${MAX_OPERATOR_LENGTH} characters is refused`, () => {
    const operator = `${"not:".repeat(30_000)}equal`;
    expect(errorsOf(boundedValidate(policy([rule({ all: [{ ...fact(), operator }] })])))).toEqual([
      {
        path: "$.rules[0].conditions.all[0].operator",
        message: `the operator is ${operator.length} characters long: at most ${MAX_OPERATOR_LENGTH} are allowed`,
      },
    ]);
  });
});

describe("the document", () => {
  test(`nesting deeper than ${MAX_POLICY_DEPTH} levels is refused without recursion`, () => {
    let value: unknown = 0;
    for (let i = 0; i < 100_000; i++) value = [value];
    const errors = errorsOf(boundedValidate(policy([rule({ all: [fact(value)] })])));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      `nesting deeper than ${MAX_POLICY_DEPTH} levels: at most ${MAX_POLICY_DEPTH} are allowed`,
    );
    expect(errors[0]!.path).toMatch(/^\$\.rules\[0\]\.conditions\.all\[0\]\.value(\[0\])+$/);
  });

  test(`a document over ${MAX_POLICY_CHARS} characters of JSON is refused`, () => {
    const errors = errorsOf(validatePolicy({ ...policy([rule({ all: [fact()] })]), description: "x".repeat(300_000) }));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe("$");
    expect(errors[0]!.message).toMatch(
      new RegExp(`^the policy is at least \\d+ characters of JSON: at most ${MAX_POLICY_CHARS} are allowed$`),
    );
  });
});

describe("paths", () => {
  test.each(['$["\\x"]', '$["\\u12"]', '$.a["\\q"][0]'])("%s is a problem, never an exception", (path) => {
    const doc = policy([rule({ all: [{ ...fact(), fact: "memory", path }] })]);
    expect(errorsOf(validatePolicy(doc))).toContainEqual({
      path: "$.rules[0].conditions.all[0].path",
      message: `must be ${PATH_HELP}`,
    });
  });
});
