// A time zone's name may be written in any case (Intl reads `america/new_york` as
// America/New_York), and a policy any `read` token sends is validated, evaluated or replayed
// with its schedules. What cron-parser (through luxon) and offsetOf keep per zone, a formatter
// of about 27 KB that is never dropped, must be kept once per zone, not once per spelling: each
// new spelling held on to it for good. Counted here by watching what they are handed.

import { CronExpressionParser } from "cron-parser";
import { afterEach, expect, test, vi } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { nextTick, zoneName } from "../../src/core/schedule.ts";
import { subMinuteSchedules } from "../../src/governor/dry-run.ts";

const ZONE = "America/New_York";

/** The n-th way of writing ZONE: its letters' case from the bits of n. */
function spelling(n: number): string {
  let out = "";
  for (const c of ZONE) {
    out += n & 1 ? c.toUpperCase() : c.toLowerCase();
    if (/[a-z]/i.test(c)) n >>= 1;
  }
  return out;
}

const realFormat = Intl.DateTimeFormat;
afterEach(() => {
  Intl.DateTimeFormat = realFormat;
  vi.restoreAllMocks();
});

/** Records the zone of every offset formatter made (offsetOf's kind: `timeZoneName: longOffset`). */
function watchOffsetFormatters(): Set<string> {
  const zones = new Set<string>();
  Intl.DateTimeFormat = new Proxy(realFormat, {
    construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      const options = args[1];
      if (options?.timeZoneName === "longOffset") zones.add(String(options.timeZone));
      return Reflect.construct(target, args);
    },
  });
  return zones;
}

/** Records the `tz` of every parse cron-parser is asked for. */
function watchCronZones(): Set<string> {
  const zones = new Set<string>();
  const parse = CronExpressionParser.parse.bind(CronExpressionParser);
  vi.spyOn(CronExpressionParser, "parse").mockImplementation((expr, options) => {
    if (options?.tz !== undefined) zones.add(options.tz);
    return parse(expr, options);
  });
  return zones;
}

test("sixty-four spellings of one zone reach cron-parser and offsetOf as that one zone", () => {
  const cronZones = watchCronZones();
  const offsetZones = watchOffsetFormatters();
  for (let request = 0; request < 2; request++) {
    const schedules = Array.from({ length: 32 }, (_, i) => ({
      name: `s${i}`,
      cron: "0 9 * * *",
      timezone: spelling(request * 32 + i + 1),
    }));
    const policy = {
      name: "p",
      version: "1",
      schedules,
      rules: [{ name: "r", conditions: { all: [] }, event: { type: "wake" } }],
    };
    const result = validatePolicy(policy);
    expect(result.valid).toBe(true);
    expect(subMinuteSchedules(schedules)).toEqual([]);
  }
  expect([...cronZones]).toEqual([ZONE]);
  expect([...offsetZones].every((z) => z === ZONE)).toBe(true);
});

test("a zone written in another case has the same ticks as when written in Intl's way", () => {
  const after = Date.parse("2026-03-01T12:00:00Z");
  const tick = nextTick({ name: "s", cron: "0 9 * * *", timezone: ZONE }, after);
  expect(tick).toBe(Date.parse("2026-03-01T14:00:00Z"));
  for (let n = 1; n < 8; n++) {
    expect(zoneName(spelling(n))).toBe(ZONE);
    expect(nextTick({ name: "s", cron: "0 9 * * *", timezone: spelling(n) }, after)).toBe(tick);
  }
});
