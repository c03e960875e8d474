// The next tick of a cron schedule: remembered answers agree with a fresh parse, whatever
// order moments are asked in.

import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { cronTimerOps, nextTick, type Schedule } from "../../src/core/schedule.ts";

function fresh(s: Schedule, after: number): number {
  return CronExpressionParser.parse(s.cron, { currentDate: new Date(after), tz: s.timezone ?? "UTC" })
    .next()
    .getTime();
}

const schedules: Schedule[] = [
  { name: "minutely", cron: "* * * * *" },
  { name: "quarter", cron: "*/15 * * * *" },
  { name: "daily-paris", cron: "0 9 * * *", timezone: "Europe/Paris" },
  { name: "seconds", cron: "*/10 * * * * *" },
];

describe("nextTick", () => {
  test("agrees with a fresh parse for any sequence of moments, forwards or back", () => {
    const start = Date.parse("2026-03-29T00:00:00Z"); // a DST change in Paris
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: schedules.length - 1 }), fc.integer({ min: 0, max: 2 * 86_400_000 })),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        (asks) => {
          for (const [i, offset] of asks) {
            const s = schedules[i]!;
            expect(nextTick(s, start + offset)).toBe(fresh(s, start + offset));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("is strictly after the moment asked, even at a tick", () => {
    const s = schedules[0]!;
    const tick = Date.parse("2026-11-30T10:00:00Z");
    expect(nextTick(s, tick - 1)).toBe(tick);
    expect(nextTick(s, tick)).toBe(tick + 60_000);
  });

  test("arms a schedule without a pending timer at its next tick", () => {
    const now = Date.parse("2026-11-30T10:00:30Z");
    expect(cronTimerOps([schedules[1]!], [], now)).toEqual([
      { name: "quarter", op: "set", dueAt: Date.parse("2026-11-30T10:15:00Z"), kind: "cron" },
    ]);
  });
});
