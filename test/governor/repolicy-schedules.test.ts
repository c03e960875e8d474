// An object moved to another policy follows the new policy's schedules at once, including one
// with the same name as the old policy's: the old policy's pending tick moves to the new one
// (it fired once more, hourly, under a yearly schedule).

import { afterEach, expect, test } from "vitest";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const policy = (name: string, cron: string) => scheduledPolicy({ name, cron });

test("a same-named schedule's pending tick moves to the new policy's next tick", async () => {
  s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z") });
  expect(s.policies.loadText(JSON.stringify(policy("hourly", "0 * * * *")), "inline/hourly.json").ok).toBe(true);
  expect(s.policies.loadText(JSON.stringify(policy("yearly", "0 0 1 1 *")), "inline/yearly.json").ok).toBe(true);
  await s.governor.putObject("o", { policy: "hourly" });
  await s.advance(10 * 60_000);
  const { object } = await s.governor.putObject("o", { policy: "yearly" });
  expect(object.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2027-01-01T00:00:00Z"));
  const fired: string[] = [];
  s.governor.events.on("timer:fired", (id, name) => fired.push(`${id}:${name}`));
  await s.advance(3 * 3_600_000);
  expect(fired).toEqual([]);
});
