// `vigil test` on a fixture whose policy throws at run time says which rule threw (a review
// found only "b.indexOf is not a function").

import { describe, expect, test } from "vitest";
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

// A second review: json-rules-engine runs a rule's conditions together (Promise.all), so the
// error it rejects with may be another condition's than the compiled evaluator's first; matched
// by message alone, the only rule that threw went unnamed, or one never run was named.
describe("a rule whose conditions throw two errors", () => {
  const twoErrors = (name: string, priority: number) => ({
    name,
    priority,
    conditions: {
      all: [{ all: [fact("$.x", "swap:in", 5), fact("$.z", "equal", 1)] }, fact("$.y", "swap:in", 5)],
    },
    event: { type: "wake" },
  });

  test("is named when it is the only rule that threw", async () => {
    expect(await said([twoErrors("boom", 1)])).toMatch(/rule "boom": /);
  });

  test("is named, and a rule of lower priority that json-rules-engine never ran is not", async () => {
    const other = {
      name: "never-run",
      priority: 1,
      conditions: { all: [fact("$.y", "swap:in", 5)] },
      event: { type: "wake" },
    };
    const s = await said([twoErrors("boom", 10), other]);
    expect(s).toMatch(/rule "boom": /);
    expect(s).not.toMatch(/never-run/);
  });
});

const fact = (path: string, operator: string, value: unknown) => ({ fact: "memory", path, operator, value });

async function said(rules: unknown[]): Promise<string> {
  const registry = new PolicyRegistry();
  expect(registry.loadText(JSON.stringify({ name: "throws", version: "1", rules }), "/policies/throws.json").ok).toBe(
    true,
  );
  const fixture = { policy: "throws", start: "2026-03-01T00:00:00Z", steps: [{ facts: { x: 5 } }] };
  const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
  return String(run.failures[0]!.actual);
}

// A review: a rule that threw on a timer's evaluation was reported with the rule's name alone,
// where the same throw on facts also says where the rule is ("an operator of rules[1] of
// p.json ..."): the timer's error (the server's log line, a fixture's failure) says it too.
test("a rule that throws on a timer's evaluation is reported with where it is", async () => {
  const registry = new PolicyRegistry();
  const policy = {
    name: "on-timer",
    version: "1",
    rules: [
      {
        name: "arm",
        conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "facts" }] },
        event: { type: "schedule", params: { name: "tick", after: "PT1M" } },
      },
      {
        name: "boom",
        conditions: {
          all: [
            { fact: "trigger", path: "$.kind", operator: "equal", value: "timer", priority: 2 },
            { fact: "memory", path: "$.n", operator: "swap:in", value: "x" },
          ],
        },
        event: { type: "wake" },
      },
    ],
  };
  expect(registry.loadText(JSON.stringify(policy), "/policies/on-timer.json").ok).toBe(true);
  const fixture = {
    policy: "on-timer",
    start: "2026-03-01T00:00:00Z",
    steps: [{ facts: { n: 5 } }, { advance: "PT1M" }],
  };
  const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json"), registry);
  expect(run.failures.map((f) => [f.step, f.field])).toEqual([[1, "error"]]);
  const said = String(run.failures[0]!.actual);
  expect(said).toMatch(/^timer tick of fixture: policy on-timer@1 failed to evaluate: rule "boom": /);
  expect(said).toContain("an operator of rules[1] of on-timer.json received a value of the wrong type");
  expect(said).toMatch(/timer used up without an evaluation$/);
});
