// The time operators memoise durations; the cache is bounded, so candidates (or fact values
// under swap) that send ever new duration strings cannot grow it without end.

import { expect, test, vi } from "vitest";
import { parseDuration } from "../../src/core/durations.ts";
import {
  DURATION_CACHE_LIMIT,
  DURATION_CACHE_MAX_CHARS,
  durationCacheSize,
  olderThan,
  within,
} from "../../src/core/operators.ts";

// Every parse the time operators make is counted: a duration found in the cache is not parsed.
vi.mock("../../src/core/durations.ts", async (original) => {
  const real = await original<typeof import("../../src/core/durations.ts")>();
  return { ...real, parseDuration: vi.fn(real.parseDuration) };
});

test("the duration cache keeps at most its limit of entries, however many durations it sees", () => {
  for (let i = 0; i < DURATION_CACHE_LIMIT * 3; i++) olderThan(0, 0, `PT${i}S`);
  expect(durationCacheSize()).toBe(DURATION_CACHE_LIMIT);
  // The oldest entries were evicted, and a duration seen again is parsed again, correctly.
  expect(olderThan(10_001, 0, "PT10S")).toBe(true);
  expect(within(10_000, 0, "PT10S")).toBe(true);
  expect(durationCacheSize()).toBe(DURATION_CACHE_LIMIT);
});

test("a duration written longer than the cache keeps is parsed at each use, and not kept", () => {
  // The cache full of short durations: a long one kept would drop the oldest of them.
  for (let i = 0; i < DURATION_CACHE_LIMIT; i++) olderThan(0, 0, `PT${i}M`);
  // One second, written with 100,000 digits (a candidate's value, or a fact under swap): 4,096
  // such texts kept held 1 GB.
  for (let i = 0; i < 10; i++) {
    const second = `PT1.${String(i).padStart(4, "0")}${"0".repeat(100_000)}S`;
    expect(second.length).toBeGreaterThan(DURATION_CACHE_MAX_CHARS);
    expect(olderThan(1_002, 0, second)).toBe(true);
    expect(within(999, 0, second)).toBe(true);
  }
  // Every short one is still kept: none is parsed again.
  vi.mocked(parseDuration).mockClear();
  for (let i = 0; i < DURATION_CACHE_LIMIT; i++) expect(olderThan(60_000 * i + 1, 0, `PT${i}M`)).toBe(true);
  expect(parseDuration).not.toHaveBeenCalled();
  expect(durationCacheSize()).toBe(DURATION_CACHE_LIMIT);
});
