// docs/policy-authors.md, "Time": the evaluation of a timer's firing sets no timer for a moment
// that is not after now. A `hold-active` with `for: "PT0S"` evaluated on a timer's firing set the
// `hold` timer at now: it fired again at once, and on a real clock (each evaluation a millisecond
// or more later than the last) every hold firing set the next one.

import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { parseFixture, runFixture } from "../../src/what-if/fixtures.ts";

test("a hold-active `for: PT0S` on a cron tick sets no hold timer at now", async () => {
  const registry = new PolicyRegistry();
  const loaded = registry.loadText(
    JSON.stringify({
      name: "hold-zero",
      version: "1",
      schedules: [{ name: "tick", cron: "*/10 * * * *" }],
      rules: [
        {
          name: "hold-on-tick",
          conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "timer" }] },
          event: { type: "hold-active", params: { for: "PT0S" } },
        },
      ],
    }),
    "hold-zero.json",
  );
  expect(loaded.ok).toBe(true);
  const fixture = {
    policy: "hold-zero",
    start: "2026-03-01T00:01:00Z",
    object: { state: "active" },
    steps: [{ advance: "PT9M" }],
  };
  const r = await runFixture(parseFixture(JSON.stringify(fixture), "hold-zero.fixture.json"), registry);
  const tick = r.decisions.find((d) => d.trigger.kind === "timer" && d.trigger.name === "tick")!;
  expect(tick).toBeDefined();
  // No timer set for a moment that is not after the tick's own evaluation...
  expect(tick.timers.filter((t) => t.op === "set" && t.dueAt! <= tick.at)).toEqual([]);
  expect(tick.notes).toContainEqual(expect.stringMatching(/^hold lease of rule hold-on-tick ends at .*: not set$/));
  // ...so the tick is the only evaluation at 00:10 (the hold timer does not fire at once).
  expect(r.decisions.map((d) => d.trigger)).toEqual([{ kind: "timer", name: "tick" }]);
});
