// The time operators memoise durations; the cache is bounded, so candidates (or fact values
// under swap) that send ever new duration strings cannot grow it without end.

import { expect, test } from "vitest";
import { DURATION_CACHE_LIMIT, durationCacheSize, olderThan, within } from "../../src/core/operators.ts";

test("the duration cache keeps at most its limit of entries, however many durations it sees", () => {
  for (let i = 0; i < DURATION_CACHE_LIMIT * 3; i++) olderThan(0, 0, `PT${i}S`);
  expect(durationCacheSize()).toBe(DURATION_CACHE_LIMIT);
  // The oldest entries were evicted, and a duration seen again is parsed again, correctly.
  expect(olderThan(10_001, 0, "PT10S")).toBe(true);
  expect(within(10_000, 0, "PT10S")).toBe(true);
  expect(durationCacheSize()).toBe(DURATION_CACHE_LIMIT);
});
