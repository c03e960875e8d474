// The benchmarks' median: the middle round, and for an even number of rounds the mean of the
// two middle ones (the upper one alone made two rounds of 0.30x and 0.55x read as 0.55x: met).

import { expect, test } from "vitest";
import { median } from "../../bench/stats.ts";

test.each([
  [[3], 3],
  [[0.3, 0.55, 0.4], 0.4],
  [[0.55, 0.3], 0.425],
  [[40, 10, 20, 30], 25],
])("median of %j is %d", (xs, m) => {
  expect(median(xs)).toBeCloseTo(m, 10);
});
