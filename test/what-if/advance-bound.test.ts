// A fixture's `advance` takes any duration up to 100 years and fires every timer on the way:
// a step is bounded in evaluations, and stops with an error saying how far it got.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MAX_STEP_EVALUATIONS, parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const registry = new PolicyRegistry();
const loaded = registry.loadText(
  JSON.stringify({
    name: "tick",
    version: "1",
    schedules: [{ name: "s", cron: "* * * * * *" }],
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "timer" }] },
        event: { type: "wake" },
      },
    ],
  }),
  "tick.json",
);

const fixture = (advance: string) =>
  parseFixture(
    JSON.stringify({
      policy: "tick",
      start: "2026-03-01T00:00:00Z",
      steps: [{ advance: "PT10S" }, { advance }, { advance: "PT1S" }],
    }),
    "inline.json",
  );

test("an advance over more timers than a step may evaluate stops there, saying how far it got", async () => {
  expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
  // The bound is a parameter so that the test need not run 20,000 evaluations; the default is
  // the one the docs give (below).
  const r = await runFixture(fixture("P5214W"), registry, 50);
  expect(r.passed).toBe(false);
  expect(r.failures).toEqual([
    {
      step: 1,
      field: "error",
      expected: "no error",
      actual:
        "advance P5214W stopped at 2026-03-01T00:01:01.000Z, short of 2126-02-03T00:00:10.000Z: a step evaluates at most 50 times, and this one would evaluate more; advance less at a time",
    },
  ]);
  // 10 evaluations in the first step, 51 in the second; the third never runs.
  expect(r.decisions).toHaveLength(61);
});

test("an advance within the bound runs whole", async () => {
  const r = await runFixture(fixture("PT50S"), registry, 50);
  expect(r.failures).toEqual([]);
  expect(r.decisions).toHaveLength(61);
});

test("docs/policy-authors.md gives the bound", () => {
  const prose = readFileSync("docs/policy-authors.md", "utf8").replace(/\s+/g, " ");
  expect(prose).toContain(`A step makes at most ${MAX_STEP_EVALUATIONS.toLocaleString("en-US")} evaluations`);
});

// Every time Vigil keeps is in the year 9999 at most: an advance past it ran the clock into the
// year 10000 and fired the schedule there, a time no server reaches.
test("an advance past 9999-12-31T23:59:59.999Z fails the step, one to it runs", async () => {
  const late = parseFixture(
    JSON.stringify({
      policy: "tick",
      start: "9999-12-31T23:59:00Z",
      steps: [{ advance: "PT59.999S" }, { advance: "PT0.001S" }, { advance: "PT1S" }],
    }),
    "inline.json",
  );
  const r = await runFixture(late, registry);
  expect(r.failures).toEqual([
    {
      step: 1,
      field: "error",
      expected: "no error",
      actual:
        "advance PT0.001S from 9999-12-31T23:59:59.999Z would run the clock past 9999-12-31T23:59:59.999Z, the last instant Vigil keeps",
    },
  ]);
  // The schedule's 59 ticks up to 23:59:59; none in the year 10000.
  expect(r.decisions).toHaveLength(59);
  expect(Math.max(...r.decisions.map((d) => d.at))).toBe(Date.parse("9999-12-31T23:59:59Z"));
});
