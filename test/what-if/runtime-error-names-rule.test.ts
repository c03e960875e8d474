// `vigil test` on a fixture whose policy throws at run time says which rule threw (a review
// found only "b.indexOf is not a function").

import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const rule = (name: string, path: string, operator: string, value: unknown) => ({
  name,
  conditions: { all: [{ fact: "memory", path, operator, value }] },
  event: { type: "wake" },
});

test("a step whose evaluation throws fails with an error naming the rule", async () => {
  const registry = new PolicyRegistry();
  const policy = {
    name: "throws",
    version: "1",
    rules: [rule("fine", "$.a", "equal", 1), rule("boom", "$.x", "swap:in", 5)],
  };
  expect(registry.loadText(JSON.stringify(policy), "/policies/throws.json").ok).toBe(true);
  const fixture = { policy: "throws", start: "2026-03-01T00:00:00Z", steps: [{ facts: { x: 5 } }] };
  const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
  expect(run.failures).toHaveLength(1);
  expect(run.failures[0]).toMatchObject({ field: "error" });
  expect(String(run.failures[0]!.actual)).toMatch(/failed to evaluate: rule "boom": /);
});

// A review: with two rules that throw, the compiled evaluator named the first in the file and
// json-rules-engine's message came from the one of higher priority, which it runs first.
test("of two rules that throw, the one named is the one whose error is quoted", async () => {
  const registry = new PolicyRegistry();
  const prioritised = (name: string, path: string, priority: number) => ({
    ...rule(name, path, "swap:in", 5),
    priority,
  });
  const policy = {
    name: "throws",
    version: "1",
    rules: [prioritised("low", "$.x", 1), prioritised("high", "$.y", 10)],
  };
  expect(registry.loadText(JSON.stringify(policy), "/policies/throws.json").ok).toBe(true);
  // x = 5 makes "low" throw (5 has no indexOf); y missing makes "high" throw (undefined has none).
  const fixture = { policy: "throws", start: "2026-03-01T00:00:00Z", steps: [{ facts: { x: 5 } }] };
  const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
  const said = String(run.failures[0]!.actual);
  expect(said).toMatch(/rule "high": .*reading 'indexOf'/);
});
