// nextTick around a spring change, generated: for cron expressions over every field (minute,
// hour, day of the month, month, day of the week), asked from moments in the hours around the
// jump, the answer is the first tick the wall clock has after the moment (found minute by
// minute, without cron-parser), a tick at a local time the jump skips moved by the jump.

import fc from "fast-check";
import { expect, test } from "vitest";
import { nextTick } from "../../src/core/schedule.ts";
import { localTime } from "../helpers/wall-clock.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Wall {
  minute: number;
  hour: number;
  day: number;
  month: number;
  dow: number;
  /** Minutes east of UTC. */
  offset: number;
}

function wall(tz: string, t: number): Wall {
  const local = localTime(tz, t);
  return { ...fieldsOf(local), offset: (local - t) / MINUTE };
}

/** The fields of a local time written as if it were UTC. */
function fieldsOf(local: number): Omit<Wall, "offset"> {
  const d = new Date(local);
  return {
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    dow: d.getUTCDay(),
  };
}

/** A cron field of lists, ranges and steps (`*`, `2`, `1-3`, `0,30`, `*\/15`) against a value. */
function fieldMatches(field: string, v: number, low: number): boolean {
  return field.split(",").some((part) => {
    const [range, step] = part.split("/") as [string, string | undefined];
    const [a, b] =
      range === "*" ? [low, 99] : range.includes("-") ? range.split("-").map(Number) : [Number(range), Number(range)];
    return v >= a! && v <= b! && (step === undefined || (v - a!) % Number(step) === 0);
  });
}

/** Classic cron: with both a day of the month and a day of the week set, either day matches. */
function matches([minute, hour, dom, month, dow]: string[], w: Omit<Wall, "offset">): boolean {
  if (!fieldMatches(minute!, w.minute, 0) || !fieldMatches(hour!, w.hour, 0) || !fieldMatches(month!, w.month, 1))
    return false;
  const byDate = fieldMatches(dom!, w.day, 1);
  const byWeekday = fieldMatches(dow!, w.dow, 0);
  return dom !== "*" && dow !== "*" ? byDate || byWeekday : byDate && byWeekday;
}

/** The wall clock of each minute from `from` to `to`, and of the minute before. */
function clockOf(tz: string, from: number, to: number): Wall[] {
  const out: Wall[] = [];
  for (let t = from - MINUTE; t <= to; t += MINUTE) out.push(wall(tz, t));
  return out;
}

/** The ticks of `cron` on a clock from `from`, each local time the jump skips moved by it. */
function wallTicks(cron: string[], clock: Wall[], from: number): number[] {
  const ticks = new Set<number>();
  for (let i = 1; i < clock.length; i++) {
    const [prev, w] = [clock[i - 1]!, clock[i]!];
    const t = from + (i - 1) * MINUTE;
    // Local minutes [t + old offset, t + new offset) do not exist: each is moved by the jump.
    for (let m = 0; m < w.offset - prev.offset; m++)
      if (matches(cron, fieldsOf(t + (prev.offset + m) * MINUTE))) ticks.add(t + m * MINUTE);
    if (matches(cron, w)) ticks.add(t);
  }
  return [...ticks].sort((a, b) => a - b);
}

/** The moment of each zone's 2026 spring change (found minute by minute: they are asserted). */
const changes = [
  ["America/New_York", "2026-03-08T07:00:00Z"], // 02:00 -> 03:00
  ["Europe/Berlin", "2026-03-29T01:00:00Z"], // 02:00 -> 03:00
  ["Australia/Sydney", "2026-10-03T16:00:00Z"], // 02:00 -> 03:00
  ["Pacific/Chatham", "2026-09-26T14:00:00Z"], // 02:45 -> 03:45
] as const;

test("around a spring change, the next tick of any schedule is the wall clock's, from any moment", () => {
  const windows = changes.map(([tz, at]) => {
    const change = Date.parse(at);
    expect(wall(tz, change).offset - wall(tz, change - MINUTE).offset).toBe(60);
    const [from, to] = [change - 4 * HOUR, change + 30 * HOUR];
    return { tz, change, from, to, clock: clockOf(tz, from, to), local: wall(tz, change) };
  });
  fc.assert(
    fc.property(
      fc.nat(windows.length - 1),
      fc.constantFrom("0", "15", "45", "*/15", "0,30", "50-59/3"),
      fc.constantFrom("*", "2", "1-3", "2,3", "*/2", "3"),
      // The change's own day, month and weekday most of the time, so that its ticks are few.
      fc.constantFrom("*", "day", "day", "1"),
      fc.constantFrom("*", "month", "month", "month"),
      fc.constantFrom("*", "weekday", "weekday", "1-5"),
      // Inside the jumped hour (03:00 to 04:00 local after it) half the time.
      fc.array(fc.oneof(fc.integer({ min: 0, max: HOUR }), fc.integer({ min: -3 * HOUR, max: 3 * HOUR })), {
        minLength: 1,
        maxLength: 3,
      }),
      (i, minute, hour, dom, month, dow, moments) => {
        const { tz, change, from, to, clock, local } = windows[i]!;
        // The day of the change is the one after the jump (Chatham's 03:45 is still that day).
        const cron = [
          minute,
          hour,
          dom === "day" ? String(local.day) : dom,
          month === "month" ? String(local.month) : month,
          dow === "weekday" ? String(local.dow) : dow,
        ];
        const expected = wallTicks(cron, clock, from);
        for (const m of moments) {
          const t = change + m;
          const due = nextTick({ name: "s", cron: cron.join(" "), timezone: tz }, t);
          const want = expected.find((e) => e > t);
          const at = `"${cron.join(" ")}" in ${tz} from ${new Date(t).toISOString()}`;
          if (want !== undefined) expect(due && new Date(due).toISOString(), at).toBe(new Date(want).toISOString());
          // No tick in the window: none before its end either.
          else expect(due === null || due > to, `${at}: ${due && new Date(due).toISOString()}`).toBe(true);
        }
      },
    ),
    {
      seed: 2,
      numRuns: 40,
      examples: [
        // Sydney, 03:00 on October 4th (the jump), "0 1-3 4 10 *": the next tick is a year off,
        // past an autumn change and the next spring one.
        [2, "0", "1-3", "day", "month", "*", [0]],
        // Chatham, a moment before its jump from 02:45 to 03:45, "*/15 3 * * *": 03:45 comes
        // before 03:00 moved to 04:00.
        [3, "*/15", "3", "*", "*", "*", [-1]],
        // Chatham, three hours before the jump, "45 2 * 9 0" (Sundays of September at 02:45, the
        // moment of the jump): the next September's is more than the autumn change away.
        [3, "45", "2", "*", "month", "weekday", [-3 * HOUR]],
      ],
    },
  );
});
