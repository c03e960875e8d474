// A rule named like one Vigil adds to what fired ("timer:wake", the object's own wake alarm;
// "hold:lease") was taken for it: a wake deferred by dwell.minDormant set the `wake` timer
// instead of a `dwell` timer, and the object woke at the dwell's end although no rule asked for
// it any more. Those names are refused now; the fixture shows the behaviour a rule's own name gets.

import { describe, expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const policy = (ruleName: string, name: string) => ({
  name,
  version: "1",
  dwell: { minDormant: "PT10M" },
  rules: [
    {
      name: ruleName,
      conditions: { all: [{ fact: "memory", path: "$.q", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "idle",
      conditions: {
        all: [
          { fact: "memory", path: "$.q", operator: "equal", value: 0 },
          { fact: "state", operator: "in", value: ["active", "waking"] },
        ],
      },
      event: { type: "dormancy" },
    },
  ],
});

const fixture = (name: string) => ({
  policy: name,
  start: "2026-03-01T00:00:00Z",
  object: { state: "active", memory: { q: 0 } },
  steps: [
    { facts: { q: 0 }, expect: { state: "dormant", outcome: "dormancy" } },
    // work arrives inside minDormant: the wake is deferred to the dwell's end
    { facts: { q: 1 }, expect: { state: "dormant", outcome: "none", timers: ["dwell"] } },
    // the work is gone before the dwell ends: nothing asks for a wake any more
    { facts: { q: 0 }, expect: { state: "dormant" } },
    { advance: "PT10M", expect: { state: "dormant" } },
  ],
});

async function runWith(ruleName: string, name: string) {
  const registry = new PolicyRegistry();
  const loaded = registry.loadText(JSON.stringify(policy(ruleName, name)), `${name}.json`);
  expect(loaded.ok).toBe(true);
  return runFixture(parseFixture(JSON.stringify(fixture(name)), `${name}.fixture.json`), registry);
}

describe("rule names that are Vigil's synthetic ones", () => {
  test("control: a rule named 'work' behaves as documented", async () => {
    const r = await runWith("work", "named-work");
    expect(r.failures).toEqual([]);
  });

  test.each(["timer:wake", "hold:lease"])("a rule may not be named %s: validation refuses it", (ruleName) => {
    expect(validatePolicy(policy(ruleName, "reserved"), "reserved")).toEqual({
      valid: false,
      errors: [{ path: "$.rules[0].name", message: "the rule names timer:wake, hold:lease are Vigil's own" }],
    });
    const registry = new PolicyRegistry();
    expect(registry.loadText(JSON.stringify(policy(ruleName, "reserved")), "reserved.json").ok).toBe(false);
  });
});
