// A schedule in Australia/Lord_Howe, whose clocks move by half an hour: around its fall-back,
// cron-parser answered a tick in the past (an hourly schedule then fired every second for half
// an hour, 1,800 times) or threw (the object could not even be created). Each tick fires once.

import { afterEach, expect, test } from "vitest";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const policy = (name: string, cron: string) => scheduledPolicy({ name, cron, timezone: "Australia/Lord_Howe" });

test("an hourly schedule over the half-hour fall-back fires each tick once, on time", async () => {
  s = await makeServices({ start: Date.parse("2026-04-04T12:30:00Z") });
  expect(s.policies.loadText(JSON.stringify(policy("lhf", "0 * * * *")), "inline/lhf.json").ok).toBe(true);
  const errors: string[] = [];
  s.governor.events.on("governor:error", (e, context) => errors.push(`${context}: ${e.message}`));
  const fired: string[] = [];
  s.governor.events.on("timer:fired", (_o, _n, late) =>
    fired.push(`${new Date(s!.clock.now()).toISOString()}${late ? " late" : ""}`),
  );
  await s.governor.putObject("o", { policy: "lhf" });
  await s.advance(3 * 3_600_000);
  expect({ fired, errors }).toEqual({
    fired: ["2026-04-04T13:00:00.000Z", "2026-04-04T14:00:00.000Z", "2026-04-04T15:30:00.000Z"],
    errors: [],
  });
});

test("a daily schedule can be armed the day before the change (cron-parser threw all that day)", async () => {
  s = await makeServices({ start: Date.parse("2026-04-03T16:00:00Z") });
  expect(s.policies.loadText(JSON.stringify(policy("lhd", "0 2 * * *")), "inline/lhd.json").ok).toBe(true);
  const { object } = await s.governor.putObject("o", { policy: "lhd" });
  expect(object.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2026-04-04T15:30:00Z"));
});
