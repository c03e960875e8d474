// The next tick of a cron schedule: remembered answers agree with a fresh parse, whatever
// order moments are asked in, and with the calendar walked tick by tick across a DST gap.

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

/** The first tick after `after`, walking tick by tick from a day before: the calendar's own order. */
function walked(s: Schedule, after: number): number {
  const expr = CronExpressionParser.parse(s.cron, {
    currentDate: new Date(after - 86_400_000),
    tz: s.timezone ?? "UTC",
  });
  for (;;) {
    const t = expr.next().getTime();
    if (t > after) return t;
  }
}

describe("nextTick", () => {
  test("across a spring-forward gap, every moment before the moved tick gets it, whatever was asked before", () => {
    // 02:30 daily in New York: on 2026-03-08 02:30 does not exist; the tick is 03:30 EDT (07:30Z).
    const gap = { name: "gap", cron: "30 2 * * *", timezone: "America/New_York" };
    const start = Date.parse("2026-03-07T00:00:00Z");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 * 86_400_000 }), { minLength: 1, maxLength: 30 }), (offsets) => {
        for (const offset of offsets) expect(nextTick(gap, start + offset)).toBe(walked(gap, start + offset));
      }),
      { numRuns: 200 },
    );
    // From inside the jumped hour (03:10 EDT), as from before it: 07:30Z that day.
    expect(
      new Date(nextTick({ ...gap, cron: "0 30 2 * * *" }, Date.parse("2026-03-08T07:10:00Z"))!).toISOString(),
    ).toBe("2026-03-08T07:30:00.000Z");
  });

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

  test("around Lord Howe's half-hour fall-back: strictly after the moment, never thrown (cron-parser answers a past tick, or throws)", () => {
    const hourly = { name: "h", cron: "0 * * * *", timezone: "Australia/Lord_Howe" };
    const daily = { name: "d", cron: "0 2 * * *", timezone: "Australia/Lord_Howe" };
    // 2026-04-05 02:00 LHDT (+11, 15:00Z) falls back to 01:30 LHST (+10:30).
    const at = (iso: string, s: Schedule) => new Date(nextTick(s, Date.parse(iso))!).toISOString();
    expect(at("2026-04-04T13:30:00Z", hourly)).toBe("2026-04-04T14:00:00.000Z"); // 01:00 LHDT
    for (const moment of [
      "2026-04-04T14:00:00Z",
      "2026-04-04T14:00:01Z",
      "2026-04-04T14:29:59Z",
      "2026-04-04T15:00:00Z",
    ])
      expect(at(moment, hourly)).toBe("2026-04-04T15:30:00.000Z"); // 02:00 LHST
    expect(at("2026-04-03T16:00:00Z", daily)).toBe("2026-04-04T15:30:00.000Z");
    expect(at("2026-04-04T16:00:00Z", daily)).toBe("2026-04-05T15:30:00.000Z");
    // A weekly tick on the day of the change, from days before it (in another offset than now).
    const weekly = { name: "w", cron: "0 2 * * 0", timezone: "Australia/Lord_Howe" };
    expect(at("2026-04-02T12:00:00Z", weekly)).toBe("2026-04-04T15:30:00.000Z");
  });

  test("is strictly after the moment asked, even at a tick", () => {
    const s = schedules[0]!;
    const tick = Date.parse("2026-11-30T10:00:00Z");
    expect(nextTick(s, tick - 1)).toBe(tick);
    expect(nextTick(s, tick)).toBe(tick + 60_000);
  });

  test("a schedule whose every tick falls in a spring-forward gap has none: it arms nothing, and a pending tick is cancelled", () => {
    // 02:00 on the first Sunday of October, the moment Lord Howe's clocks go from 02:00 to 02:30.
    const never = { name: "y", cron: "0 2 * 10 0#1", timezone: "Australia/Lord_Howe" };
    const now = Date.parse("2026-03-01T00:00:00Z");
    expect(nextTick(never, now)).toBeNull();
    expect(nextTick(never, now + 60_000)).toBeNull(); // the remembered answer
    expect(cronTimerOps([never], [], now)).toEqual([]);
    const pending = [{ name: "y", dueAt: now + 3_600_000, kind: "cron" as const }];
    expect(cronTimerOps([never], pending, now, (s) => nextTick(s, now))).toEqual([
      { name: "y", op: "cancel", kind: "cron" },
    ]);
    // A timer of that name the rules set is not a tick of the schedule: left alone.
    expect(cronTimerOps([never], [{ ...pending[0]!, kind: "wake" as const }], now)).toEqual([]);
  });

  test("arms a schedule without a pending timer at its next tick", () => {
    const now = Date.parse("2026-11-30T10:00:30Z");
    expect(cronTimerOps([schedules[1]!], [], now)).toEqual([
      { name: "quarter", op: "set", dueAt: Date.parse("2026-11-30T10:15:00Z"), kind: "cron" },
    ]);
  });
});
