// The `substrate` fact as docs/policy-authors.md gives it: the driver's last observation,
// `{status, at, ...}`, and `{"status": "unknown"}` alone, with no `at`, before the driver has
// observed the object (a fixture's dormant object); a fixture's active object reads as running
// since the fixture's start.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const registry = new PolicyRegistry();
const loaded = registry.loadText(
  JSON.stringify({
    name: "sub",
    version: "1",
    rules: [
      {
        name: "unknown",
        conditions: { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "unknown" }] },
        event: { type: "wake" },
      },
      {
        name: "observed-at",
        conditions: { all: [{ fact: "substrate", path: "$.at", operator: "greaterThanInclusive", value: 0 }] },
        event: { type: "hold-active" },
      },
    ],
  }),
  "sub.json",
);

const fixture = (state: string) =>
  parseFixture(
    JSON.stringify({
      policy: "sub",
      start: "2026-03-01T00:00:00Z",
      object: { state, memory: {} },
      steps: [{ facts: { a: 1 } }],
    }),
    "inline.json",
  );

test("an object the driver never observed reads {status: unknown} with no at; an active one its observation", async () => {
  expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
  const never = await runFixture(fixture("dormant"), registry);
  expect(never.failures).toEqual([]);
  const first = never.decisions[0]!;
  expect(first.fired.map((f) => f.rule)).toEqual(["unknown"]);
  const running = await runFixture(fixture("active"), registry);
  expect(running.decisions[0]!.fired.map((f) => f.rule)).toEqual(["observed-at"]);
});

test("docs/policy-authors.md gives both", () => {
  const doc = readFileSync("docs/policy-authors.md", "utf8");
  const prose = doc.replace(/\s+/g, " ");
  const row = doc.split("\n").find((l) => l.startsWith("| `substrate`"))!;
  expect(row).toContain('`{"status": "unknown"}` alone, with no `at`');
  expect(prose).toContain('its `substrate` fact reads `{"status": "running", "at": …}` with the fixture\'s `start`');
});
