// ISO 8601 durations: what Vigil accepts, in milliseconds, and what it refuses.

import { describe, expect, test } from "vitest";
import { durationMs, parseDuration } from "../../src/core/durations.ts";

describe("parseDuration", () => {
  test.each([
    ["PT5M", 300_000],
    ["P1DT2H", 93_600_000],
    ["PT0.5S", 500],
    ["P1W", 604_800_000],
    ["PT0S", 0],
    ["P1D", 86_400_000],
    ["PT1H30M", 5_400_000],
    ["PT1.5M", 90_000],
    ["P2DT3H4M5S", 2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5_000],
    ["PT0.0004S", 0],
    ["PT0.0006S", 1],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(durationMs(text)).toBe(ms);
  });

  test.each([
    ["P", "no component"],
    ["PT", "T without a time component"],
    ["P1DT", "trailing T"],
    ["5m", "not ISO 8601"],
    ["P1Y", "years depend on the calendar"],
    ["P1M", "months depend on the calendar"],
    ["", "empty"],
    ["PT-1S", "negative"],
    ["pt5m", "lower case"],
    ["PT5M ", "trailing space"],
    ["PT5H3M2H", "units out of order"],
    ["P1H", "hours before T"],
  ])("%j is refused (%s)", (text) => {
    expect(parseDuration(text)).toBeNull();
    expect(() => durationMs(text)).toThrow(`not an ISO 8601 duration: ${JSON.stringify(text)}`);
  });
});

describe("the upper bound", () => {
  test.each([
    ["P36500D", 36_500 * 86_400_000],
    ["P5214W", 5214 * 7 * 86_400_000],
  ])("%s is accepted", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["P36501D", "P99999999W", "PT999999999999H"])("%s is longer than 100 years and refused", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
