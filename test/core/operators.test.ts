// Vigil's time operators read ISO 8601 timestamps as Date.parse does in UTC: the fast path for
// the ISO form (operators.ts parseUtcStamp) against Date.parse itself, on generated near-ISO
// strings and on every kind of date toISOString writes. A date-time without a zone is UTC
// whatever the machine's time zone, and a string that is not ISO 8601, or a day its month does
// not have (`2026-02-30`, which Date.parse reads as March 2), is not a timestamp.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { composeOperator, constantTest, toEpochMs } from "../../src/core/operators.ts";
import { OPERATORS } from "../../src/core/vocabulary.ts";

/**
 * Date.parse as it reads `s` with the time zone set to UTC; but a date whose day its month does
 * not have (Date.parse rolls `2026-02-30` over to March 2) is no timestamp.
 */
const byDateParse = (s: string): number | null =>
  inZone("UTC", () => {
    const t = Date.parse(s);
    return Number.isNaN(t) || !dayExists(s) ? null : t;
  });

/** Whether the date that starts `s` names a day of its month, by Date's own calendar. */
function dayExists(s: string): boolean {
  const m = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return true;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day);
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

/** Runs `fn` with the process's time zone set to `tz` (Node reads TZ again when it is set). */
function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe("a timestamp reads the same in every time zone", () => {
  test.each(["2026-03-01T11:55:00", "2026-03-01T11:55", "2026-03-01 11:55:00.250", "2026-03-01"])("%s is UTC", (s) => {
    for (const tz of ["UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham"])
      expect({ tz, t: inZone(tz, () => toEpochMs(s)) }).toEqual({ tz, t: byDateParse(s) });
    expect(toEpochMs(s)).toBe(Date.parse(s.includes(":") ? `${s.replace(" ", "T")}Z` : s));
  });

  test.each(["+002026-03-01", "+2026-03-01", "-2026-03-01", "02026-03-01", "12345-01-01", "+002026-03-01T11:55"])(
    "%s (a year Date.parse may read as local time) reads the same in every zone, or is not a timestamp",
    (s) => {
      const read = (tz: string) => inZone(tz, () => toEpochMs(s));
      expect(["Asia/Kolkata", "America/New_York"].map(read)).toEqual([read("UTC"), read("UTC")]);
      const t = read("UTC");
      if (!s.startsWith("+00")) expect(t).toBeNull();
      else expect(t).toBe(Date.UTC(2026, 2, 1, s.includes("T") ? 11 : 0, s.includes("T") ? 55 : 0));
    },
  );

  test.each(["2026-02-30", "2026-02-29T12:00:00Z", "2026-04-31 10:00", "1900-02-29", "+002026-06-31"])(
    "%s (a day its month does not have, which Date.parse rolls over) is not a timestamp",
    (s) => {
      expect(Number.isNaN(Date.parse(s.replace(" ", "T")))).toBe(false);
      expect(toEpochMs(s)).toBeNull();
    },
  );

  test.each(["March 1, 2026", "Sun, 01 Mar 2026 11:55:00 GMT", "2026/03/01", "1 March 2026 11:55"])(
    "%s (not ISO 8601) is not a timestamp",
    (s) => {
      expect(Number.isNaN(Date.parse(s))).toBe(false);
      expect(toEpochMs(s)).toBeNull();
    },
  );
});

describe("toEpochMs reads an ISO 8601 string exactly as Date.parse in UTC", () => {
  test.each([
    "2026-03-01T12:00:00Z",
    "2026-03-01T12:00:00.123Z",
    "2024-02-28T23:59:59.999Z",
    "2024-02-29T00:00:00Z",
    "2026-02-31T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "0999-12-31T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "1000-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "9999-12-28T23:59:59.999Z",
    "+012026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00.1Z",
    "2026-01-01",
    "2026-01-01T00:00:00z",
    "2026-01-01 00:00:00Z",
    "yesterday",
    "",
  ])("%s", (s) => {
    expect(toEpochMs(s)).toBe(byDateParse(s));
  });

  test("generated near-ISO strings", () => {
    const digit = fc.constantFrom(..."0123456789");
    const slot = (c: string) => (c === "D" ? digit : fc.constant(c));
    const template = (t: string) => fc.tuple(...[...t].map(slot)).map((cs) => cs.join(""));
    // One character sometimes replaced, so that the fast path's every check is crossed.
    const spoiled = fc
      .tuple(
        fc.oneof(template("DDDD-DD-DDTDD:DD:DDZ"), template("DDDD-DD-DDTDD:DD:DD.DDDZ")),
        fc.option(fc.tuple(fc.nat(23), fc.constantFrom(..."0123456789-:T.Z+ a")), { freq: 3 }),
      )
      .map(([s, edit]) => (edit && edit[0] < s.length ? s.slice(0, edit[0]) + edit[1] + s.slice(edit[0] + 1) : s));
    fc.assert(
      fc.property(spoiled, (s) => toEpochMs(s) === byDateParse(s)),
      { seed: 7, numRuns: 20_000 },
    );
  });

  test("every date toISOString writes", () => {
    const anyDate = fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true });
    fc.assert(
      fc.property(anyDate, (d) => toEpochMs(d.toISOString()) === d.getTime()),
      { seed: 7, numRuns: 20_000 },
    );
  });
});

describe("constantTest is the undecorated operator with its value bound", () => {
  const values = [0, 9, 10, "10", "9", "abc", "", null, true, ["a", 10], "PT5M", "P1D", [1, 2], { a: 1 }];
  const facts = [...values, undefined, "2026-03-01T11:58:00Z", Date.UTC(2026, 2, 1, 11, 50), [10, "a"]];
  const now = Date.UTC(2026, 2, 1, 12);

  test.each(OPERATORS.map((op) => [op]))("%s", (op) => {
    const general = composeOperator(op)!;
    for (const value of values) {
      const bound = constantTest(op, value);
      if (bound === null) continue;
      for (const fact of facts)
        expect([op, value, fact, bound(fact, now)]).toEqual([op, value, fact, general(fact, value, now)]);
    }
  });
});
