// The warnings about a missing path (a negative operator true there, an operator that throws
// there) are for paths that may be missing. A review found them on paths that never are: a
// trigger's `kind` (`notEqual "timer"`, a common guard, was warned as "true when $.kind is
// missing"), a substrate's `status`, the length of `changed`, and any path on `state`, `now`,
// `idleMs` or `stateAgeMs`, which json-rules-engine ignores (they are not objects): `swap:in`
// on `{"fact": "state", "path": "$.length"}` was said to throw, and it never does.

import { expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { compilePolicy } from "../../src/core/compile.ts";
import { evaluateOnEngine, type BuiltinFacts } from "../../src/core/evaluate.ts";

const policyWith = (condition: Record<string, unknown>) => ({
  name: "p",
  version: "1",
  rules: [{ name: "r", conditions: { all: [condition] }, event: { type: "wake" } }],
});

const warnings = (condition: Record<string, unknown>) => {
  const r = validatePolicy(policyWith(condition));
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return r.warnings;
};

const at = "$.rules[0].conditions.all[0]";

test.each<[string, Record<string, unknown>]>([
  ["notEqual on trigger $.kind", { fact: "trigger", path: "$.kind", operator: "notEqual", value: "timer" }],
  ["notIn on substrate $.status", { fact: "substrate", path: '$["status"]', operator: "notIn", value: ["running"] }],
  ["notEqual on changed $.length", { fact: "changed", path: "$.length", operator: "notEqual", value: 0 }],
  ["swap:in on trigger $.kind", { fact: "trigger", path: "$.kind", operator: "swap:in", value: "act" }],
  [
    "in naming trigger $.kind",
    { fact: "memory", path: "$.q", operator: "in", value: { fact: "trigger", path: "$.kind" } },
  ],
  ["in naming state at a path", { fact: "memory", path: "$.q", operator: "in", value: { fact: "state", path: "$.x" } }],
])("%s: no warning about a missing path, which it never is", (_name, condition) => {
  expect(warnings(condition)).toEqual([]);
});

test.each<[string, Record<string, unknown>, string]>([
  ["state", { fact: "state", path: "$.length", operator: "swap:in", value: [1] }, "a string"],
  ["state", { fact: "state", path: "$.x", operator: "notEqual", value: "active" }, "a string"],
  ["now", { fact: "now", path: "$.x", operator: "greaterThan", value: 5 }, "a number"],
  ["idleMs", { fact: "idleMs", path: "$.x", operator: "notIn", value: [5] }, "a number"],
])("a path on %s is warned about as ignored, and nothing else", async (fact, condition, what) => {
  expect(warnings(condition)).toEqual([
    {
      path: `${at}.path`,
      message: `a path on the ${fact} fact is ignored: ${fact} is ${what}, and the condition compares it whole`,
    },
  ]);
  // It is: json-rules-engine compares the fact whole, and does not throw.
  const v = validatePolicy(policyWith(condition));
  const policy = compilePolicy(v.valid ? v.policy : (null as never), "h", { engine: "json-rules-engine" });
  const facts: BuiltinFacts = {
    memory: {},
    state: "active",
    now: 10,
    trigger: { kind: "facts" },
    changed: [],
    idleMs: 5,
    stateAgeMs: 0,
    substrate: { status: "unknown" },
  };
  const result = await evaluateOnEngine(policy, facts);
  const explained = result.rules[0]!.conditions;
  expect(explained.kind === "all" && explained.conditions[0]).toMatchObject({
    factValue: facts[fact as keyof BuiltinFacts],
  });
});

test("a path that may be missing is still warned about", () => {
  expect(warnings({ fact: "trigger", path: "$.name", operator: "notEqual", value: "tick" })).toEqual([
    { path: `${at}.operator`, message: '"notEqual" is true when $.name is missing from the trigger fact' },
  ]);
});
