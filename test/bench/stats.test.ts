// The benchmarks' median: the middle round, and for an even number of rounds the mean of the
// two middle ones (the upper one alone made two rounds of 0.30x and 0.55x read as 0.55x: met).

import { expect, test } from "vitest";
import { median, percentile } from "../../bench/stats.ts";

test.each([
  [[3], 3],
  [[0.3, 0.55, 0.4], 0.4],
  [[0.55, 0.3], 0.425],
  [[40, 10, 20, 30], 25],
])("median of %j is %d", (xs, m) => {
  expect(median(xs)).toBeCloseTo(m, 10);
});

test.each([
  [50, 50],
  [99, 99],
  [100, 100],
  [1, 1],
])("the nearest-rank p%d of 1..100 is %d", (p, value) => {
  expect(
    percentile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      p,
    ),
  ).toBe(value);
});

test("a percentile of nothing is 0, of one value that value", () => {
  expect(percentile([], 99)).toBe(0);
  expect(percentile([7], 50)).toBe(7);
});
