// What finding a schedule's next tick costs, counted in cron-parser's date steps (luxon
// operations) rather than timed: a schedule every tick of which falls in a daylight-saving gap
// sent cron-parser round its whole loop (about half a second), and a candidate policy from any
// `read` token could hold a few thousand of them. The search in a named zone now looks a little
// over a year ahead, and a tick further off is found in fixed offsets.

import { expect, test } from "vitest";
import { nextTick } from "../../src/core/schedule.ts";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { cronSteps } from "../helpers/cron-steps.ts";

let from = 0;
const resetSteps = () => {
  from = cronSteps();
};
const steps = () => cronSteps() - from;
const after = Date.parse("2026-12-04T00:00:00Z");
const stepsOf = (cron: string, timezone: string) => {
  resetSteps();
  const due = nextTick({ name: "s", cron, timezone }, after);
  return { due, steps: steps() };
};

test("a schedule that never fires (each tick in Lord Howe's spring gap) is found out in a few thousand steps, not tens of thousands", () => {
  const { due, steps: n } = stepsOf("5 2 2 * 10 0#1", "Australia/Lord_Howe");
  expect(due).toBeNull();
  // 35,311 before the search in the zone was bounded.
  expect(n).toBeLessThan(5_000);
});

test("a tick more than a year off is still found, in fixed offsets", () => {
  expect(stepsOf("0 0 29 2 *", "America/New_York").due).toBe(Date.parse("2028-02-29T05:00:00Z"));
  expect(stepsOf("0 3 29 2 *", "Europe/Berlin").due).toBe(Date.parse("2028-02-29T02:00:00Z"));
  // The fifth Monday of a February: 2044.
  expect(stepsOf("0 0 * 2 1#5", "Europe/Berlin").due).toBe(Date.parse("2044-02-28T23:00:00Z"));
});

test("a tick years off in the zone's other offset costs a walk in each offset, not one in each of eight tries", () => {
  // From July in Sydney (UTC+10), February's fifth Monday (2044) is in summer time (UTC+11).
  // The walk in UTC+10 finds it at a moment of UTC+11 and went on walking eight times more.
  resetSteps();
  const due = nextTick(
    { name: "s", cron: "0 3 * 2 1#5", timezone: "Australia/Sydney" },
    Date.parse("2026-07-01T00:00:00Z"),
  );
  expect(due).toBe(Date.parse("2044-02-28T16:00:00Z"));
  const twoWalks = steps();
  resetSteps();
  // One walk of the same length in UTC, for scale.
  expect(nextTick({ name: "s", cron: "0 3 * 2 1#5", timezone: "UTC" }, Date.parse("2026-07-01T00:00:00Z"))).toBe(
    Date.parse("2044-02-29T03:00:00Z"),
  );
  const oneWalk = steps();
  // 3.4 walks' worth now (the search in the zone a year ahead, then one walk in each offset);
  // 12.1 before (eight more in the zone's offset of now, past the tick already found).
  expect(twoWalks).toBeLessThan(4 * oneWalk);
});

test("a tick worked out ahead is still known after a thousand other schedules' (settleSchedules relies on it)", () => {
  const slow = { name: "s", cron: "0 3 * 2 1#5", timezone: "Europe/Berlin" };
  nextTick(slow, after);
  for (let i = 0; i < 2_000; i++)
    nextTick({ name: "o", cron: `${i % 60} ${Math.floor(i / 60) % 24} * * *` }, after + i);
  resetSteps();
  expect(nextTick(slow, after + 1)).toBe(Date.parse("2044-02-29T02:00:00Z"));
  // Every answer was wiped when 1,024 were kept: the walk to 2044 again.
  expect(steps()).toBe(0);
});

test("a policy has at most 32 schedules", () => {
  const policy = (n: number) => ({
    name: "many",
    version: "1",
    schedules: Array.from({ length: n }, (_, i) => ({ name: `s${i}`, cron: `${i % 60} * * * *` })),
    rules: [
      {
        name: "r",
        conditions: { all: [{ fact: "state", operator: "equal", value: "active" }] },
        event: { type: "wake" },
      },
    ],
  });
  expect(validatePolicy(policy(32)).valid).toBe(true);
  const refused = validatePolicy(policy(33));
  expect(refused.valid).toBe(false);
  expect(!refused.valid && refused.errors).toEqual([{ path: "$.schedules", message: "at most 32 schedules" }]);
});
