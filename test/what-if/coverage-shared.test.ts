// Coverage looks inside a shared condition: its own conditions are items, counted at the shared
// condition's paths whichever rule reached them.

import { expect, test } from "vitest";
import type { PolicyDocument } from "../../src/core/policy.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { policyCoverage } from "../../src/what-if/coverage.ts";
import { parseFixture, runFixture, type LoadedFixture } from "../../src/what-if/fixtures.ts";

const policy = {
  name: "shared",
  version: "1",
  conditions: {
    busy: {
      any: [
        { fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 },
        { fact: "memory", path: "$.jobs.running", operator: "greaterThan", value: 0 },
      ],
    },
  },
  rules: [
    { name: "wake-when-busy", conditions: { all: [{ condition: "busy" }] }, event: { type: "wake" } },
    {
      name: "sleep-when-idle",
      conditions: { all: [{ not: { condition: "busy" } }, { fact: "state", operator: "equal", value: "active" }] },
      event: { type: "dormancy" },
    },
  ],
};

test("a shared condition's own conditions are coverage items, seen through every rule that uses it", async () => {
  const registry = new PolicyRegistry();
  const loaded = registry.loadText(JSON.stringify(policy), "/policies/shared.json");
  expect(loaded.ok).toBe(true);
  const fixture = {
    policy: "shared",
    start: "2026-03-01T00:00:00Z",
    steps: [
      { facts: { queue: { depth: 2 } }, expect: { outcome: "wake" } },
      { facts: { queue: { depth: 0 } }, expect: { outcome: "dormancy" } },
    ],
  };
  const run = await runFixture(parseFixture(JSON.stringify(fixture), "inline.json") as LoadedFixture, registry);
  const coverage = policyCoverage(policy as unknown as PolicyDocument, run.decisions);
  const paths = coverage.conditions.map((c) => c.path);
  // The two conditions inside `busy` once each (not once per use), and the state test.
  expect(paths).toEqual(["$.conditions.busy.any[0]", "$.conditions.busy.any[1]", "$.rules[1].conditions.all[1]"]);
  // The queue test was seen true (depth 2) and false (depth 0); jobs.running only false.
  expect(coverage.conditions[0]).toEqual({ path: "$.conditions.busy.any[0]", seenTrue: true, seenFalse: true });
  expect(coverage.conditions[1]).toEqual({ path: "$.conditions.busy.any[1]", seenTrue: false, seenFalse: true });
  expect(coverage.percent).toBeLessThan(100);
});
