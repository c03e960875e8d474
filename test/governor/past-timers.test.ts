// A timer's evaluation sets no timer for a moment already past: two such timers would otherwise
// keep setting each other from their firings, forever.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("two timers set for a past moment fire once each; their firings do not set each other again", async () => {
  s = await makeServices();
  const always = { all: [{ fact: "now", operator: "greaterThan", value: 0 }] };
  const past = (name: string) => ({ type: "schedule", params: { name, at: "2020-01-01T00:00:00Z" } });
  const doc = {
    name: "past",
    version: "1",
    rules: [
      { name: "x", conditions: always, event: past("x") },
      { name: "y", conditions: always, event: past("y") },
    ],
  };
  expect(s.policies.loadText(JSON.stringify(doc), "inline/past.json").ok).toBe(true);
  let firings = 0;
  s.governor.events.on("timer:fired", () => firings++);
  await s.governor.putObject("o", { policy: "past" }); // its creation sets x and y, both past
  await s.advance(10_000);
  expect(firings).toBe(2);
  expect((await s.governor.getObject("o"))!.timers).toEqual([]);
});
