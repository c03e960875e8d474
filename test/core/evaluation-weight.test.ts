// The weight of an evaluation (core/evaluation-weight.ts): per fact comparison the evaluation
// can reach, with n a side's list items and t its JSON text, (n_f + 1)(n_v + 1) + (n_v + 1) t_f
// + (n_f + 1) t_v, each reference to a shared condition counted again. What-if requests refuse
// an evaluation above a limit.

import { expect, test } from "vitest";
import { evaluationWeight, refuseAbove, TooCostly, WHAT_IF_MAX_WEIGHT } from "../../src/core/evaluation-weight.ts";
import type { PolicyDocument } from "../../src/core/policy.ts";

const doc = (conditions: unknown, shared?: Record<string, unknown>): PolicyDocument =>
  ({
    name: "w",
    version: "1",
    ...(shared ? { conditions: shared } : {}),
    rules: [{ name: "r", conditions, event: { type: "wake" } }],
  }) as unknown as PolicyDocument;
const facts = (memory: unknown) => ({ memory, state: "dormant", now: 0 });
/** The weight of one comparison of a fact (items, text) with a value (items, text). */
const weight = (fItems: number, fText: number, vItems: number, vText: number) =>
  (fItems + 1) * (vItems + 1) + (vItems + 1) * fText + (fItems + 1) * vText;

test("a comparison weighs its sides' list items and text: a list's items, a string's characters, a number's digits", () => {
  // [1,2,3]: 3 items; text 2 + 3 × (1 + 1) = 8.
  const d = doc({ all: [{ fact: "memory", path: "$.a", operator: "in", value: [1, 2, 3] }] });
  expect(evaluationWeight(d, facts({ a: 5 }))).toBe(weight(0, 1, 3, 8));
  expect(evaluationWeight(d, facts({ a: -12345 }))).toBe(weight(0, 6, 3, 8));
  expect(evaluationWeight(d, facts({ a: 0.5 }))).toBe(weight(0, 24, 3, 8));
  expect(evaluationWeight(d, facts({ a: [1, 2] }))).toBe(weight(2, 6, 3, 8));
  expect(evaluationWeight(d, facts({ a: "abcd" }))).toBe(weight(0, 6, 3, 8));
  // A missing path reads undefined: a word.
  expect(evaluationWeight(d, facts({}))).toBe(weight(0, 5, 3, 8));
});

test("an object counts the items of its lists and the text of its keys and values", () => {
  const d = doc({ all: [{ fact: "memory", operator: "equal", value: null }] });
  // {ab: [1]}: 1 item; text 2 + (2 + 4 + (2 + 2)) = 12.
  expect(evaluationWeight(d, facts({ ab: [1] }))).toBe(weight(1, 12, 0, 5));
});

test("a value naming another fact weighs that fact's value", () => {
  const d = doc({ all: [{ fact: "memory", path: "$.a", operator: "in", value: { fact: "memory", path: "$.b" } }] });
  expect(evaluationWeight(d, facts({ a: 1, b: [1, 2, 3, 4] }))).toBe(weight(0, 1, 4, 10));
});

test("a path on a fact that is not an object reads the fact; a path outside the grammar weighs the whole fact", () => {
  const onScalar = doc({ all: [{ fact: "state", path: "$.x", operator: "equal", value: 1 }] });
  expect(evaluationWeight(onScalar, facts({}))).toBe(weight(0, "dormant".length + 2, 0, 1));
  const bad = doc({ all: [{ fact: "memory", path: "$..a", operator: "equal", value: 1 }] });
  // {a: [1, 2]}: 2 items; text 2 + (1 + 4 + 6) = 13.
  expect(evaluationWeight(bad, facts({ a: [1, 2] }))).toBe(weight(2, 13, 0, 1));
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

test("an ordinary contains over 2,000 host names weighs far under the limit; a scan of one long list by another far over", () => {
  const hosts = Array.from({ length: 2_000 }, (_, i) => `host-${i}.internal.example.com`);
  const contains = doc({
    all: [{ fact: "memory", path: "$.seen", operator: "contains", value: "quarantine.example.com" }],
  });
  expect(evaluationWeight(contains, facts({ seen: hosts }))).toBeLessThan(WHAT_IF_MAX_WEIGHT / 5);
  const scan = doc({
    all: [
      { fact: "memory", path: "$.xs", operator: "not:someFact:in", value: Array.from({ length: 30_000 }, () => 1) },
    ],
  });
  expect(evaluationWeight(scan, facts({ xs: Array.from({ length: 30_000 }, () => 0) }))).toBeGreaterThan(
    500 * WHAT_IF_MAX_WEIGHT,
  );
});

test("refuseAbove refuses only what weighs more than its limit", () => {
  const weigh = refuseAbove(100);
  expect(() => weigh(100)).not.toThrow();
  expect(() => weigh(101)).toThrow(TooCostly);
  expect(() => weigh(101)).toThrow(/101 units.*more than the 100/);
});
