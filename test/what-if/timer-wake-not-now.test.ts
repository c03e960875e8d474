// docs/policy-authors.md, "Time": the evaluation of a timer's firing sets no timer for a moment
// that is not after now. A dormancy's `wakeAfter: "PT0S"` (or a past `wakeAt`) on a timer's
// evaluation set the `wake` timer at now: it fired at once and the object just put to sleep was
// started again (a suspend and a start on the substrate at every tick).

import { describe, expect, test } from "vitest";
import { resolve } from "../../src/core/resolve.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

const NOW = Date.parse("2026-03-01T00:10:00Z");

describe("a timer's evaluation sets no timer for a moment not after now", () => {
  test.each([
    ["wakeAfter PT0S", { wakeAfter: "PT0S" }],
    ["a past wakeAt", { wakeAt: "2026-03-01T00:00:00Z" }],
  ])("resolve: dormancy with %s on a cron tick", (_, params) => {
    const r = resolve({
      fired: [{ rule: "nap", event: "dormancy", params }],
      trigger: { kind: "timer", name: "tick" },
      now: NOW,
      state: "active",
      stateSince: NOW - 600_000,
      wokeAt: NOW - 600_000,
      holdUntil: null,
      timers: [],
      sleep: "suspend",
      minActiveMs: 0,
      minDormantMs: 0,
    });
    expect(r.outcome).toBe("dormancy");
    expect(r.timerOps.filter((op) => op.op === "set" && op.dueAt! <= NOW)).toEqual([]);
    expect(r.notes).toEqual([expect.stringMatching(/^wake timer of rule nap is due at .*: not set$/)]);
  });

  test("fixture: the tick's dormancy is not undone at once by its own wake timer", async () => {
    const registry = new PolicyRegistry();
    const loaded = registry.loadText(
      JSON.stringify({
        name: "napper",
        version: "1",
        schedules: [{ name: "tick", cron: "*/10 * * * *" }],
        rules: [
          {
            name: "nap",
            conditions: {
              all: [
                { fact: "trigger", path: "$.name", operator: "equal", value: "tick" },
                { fact: "memory", path: "$.q", operator: "equal", value: 0 },
              ],
            },
            event: { type: "dormancy", params: { wakeAfter: "PT0S" } },
          },
        ],
      }),
      "napper.json",
    );
    expect(loaded.ok).toBe(true);
    const fixture = {
      policy: "napper",
      start: "2026-03-01T00:01:00Z",
      object: { state: "active", memory: { q: 0 } },
      steps: [{ advance: "PT9M", expect: { state: "dormant", actions: ["suspend"], timers: ["tick"] } }],
    };
    const r = await runFixture(parseFixture(JSON.stringify(fixture), "napper.fixture.json"), registry);
    expect(r.failures).toEqual([]);
  });
});
