// The weight of an evaluation (core/evaluation-weight.ts): per fact comparison the evaluation
// can reach, (size of the fact's value + 1) × (size of the compared value + 1), each reference
// to a shared condition counted again. What-if requests refuse an evaluation above a limit.

import { expect, test } from "vitest";
import { evaluationWeight, refuseAbove, TooCostly } from "../../src/core/evaluation-weight.ts";
import type { PolicyDocument } from "../../src/core/policy.ts";

const doc = (conditions: unknown, shared?: Record<string, unknown>): PolicyDocument =>
  ({
    name: "w",
    version: "1",
    ...(shared ? { conditions: shared } : {}),
    rules: [{ name: "r", conditions, event: { type: "wake" } }],
  }) as unknown as PolicyDocument;
const facts = (memory: unknown) => ({ memory, state: "dormant", now: 0 });

test("a comparison weighs (fact size + 1) × (value size + 1): scalars 1, lists their items, strings their characters", () => {
  const d = doc({ all: [{ fact: "memory", path: "$.a", operator: "in", value: [1, 2, 3] }] });
  expect(evaluationWeight(d, facts({ a: 5 }))).toBe(2 * 5);
  expect(evaluationWeight(d, facts({ a: [1, 2] }))).toBe(4 * 5);
  expect(evaluationWeight(d, facts({ a: "abcd" }))).toBe(6 * 5);
  // A missing path reads undefined: one unit.
  expect(evaluationWeight(d, facts({}))).toBe(2 * 5);
});

test("an object counts its entries, keys' characters and values", () => {
  const d = doc({ all: [{ fact: "memory", operator: "equal", value: null }] });
  // {ab: [1]}: 1 + (1 + 2 + (1 + 1)) = 6.
  expect(evaluationWeight(d, facts({ ab: [1] }))).toBe(7 * 2);
});

test("a value naming another fact weighs that fact's value", () => {
  const d = doc({ all: [{ fact: "memory", path: "$.a", operator: "in", value: { fact: "memory", path: "$.b" } }] });
  expect(evaluationWeight(d, facts({ a: 1, b: [1, 2, 3, 4] }))).toBe(2 * 6);
});

test("a path on a fact that is not an object reads the fact; a path outside the grammar weighs the whole fact", () => {
  const onScalar = doc({ all: [{ fact: "state", path: "$.x", operator: "equal", value: 1 }] });
  expect(evaluationWeight(onScalar, facts({}))).toBe((1 + "dormant".length + 1) * 2);
  const bad = doc({ all: [{ fact: "memory", path: "$..a", operator: "equal", value: 1 }] });
  expect(evaluationWeight(bad, facts({ a: [1, 2] }))).toBe((1 + (1 + 1 + 3) + 1) * 2);
});

test("each reference to a shared condition counts again, nested ones multiplied; one no rule reaches does not count", () => {
  const leaf = { fact: "memory", path: "$.a", operator: "equal", value: 1 };
  const once = evaluationWeight(doc({ all: [leaf] }), facts({ a: 1 }));
  const d = doc(
    { any: [{ condition: "twice" }, { condition: "twice" }, { not: { condition: "leaf" } }] },
    { leaf: { all: [leaf] }, twice: { all: [{ condition: "leaf" }, { condition: "leaf" }] }, unused: { all: [leaf] } },
  );
  expect(evaluationWeight(d, facts({ a: 1 }))).toBe(5 * once);
});

test("refuseAbove refuses only what weighs more than its limit", () => {
  const weigh = refuseAbove(100);
  expect(() => weigh(100)).not.toThrow();
  expect(() => weigh(101)).toThrow(TooCostly);
  expect(() => weigh(101)).toThrow(/101 units.*more than the 100/);
});
