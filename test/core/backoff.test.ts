// Jittered exponential backoff: the step doubles from baseMs up to maxMs, and the wait is a
// random point between half the step and all of it.

import { describe, expect, test } from "vitest";
import { backoffMs, type Backoff } from "../../src/core/backoff.ts";

const B: Backoff = { baseMs: 250, maxMs: 30_000 };
const fixed = (r: number) => () => r;

describe("backoffMs", () => {
  test.each<[number, number, number]>([
    // attempt, random, wait
    [1, 0, 125],
    [1, 0.5, 188], // 125 + 62.5, rounded
    [1, 0.999, 250],
    [2, 0, 250],
    [3, 0.5, 750],
    [4, 1, 2000],
    [7, 0, 8000], // step 16,000
    [8, 0, 15_000], // step 32,000 is capped at 30,000
    [8, 1, 30_000],
    [50, 0.5, 22_500],
    [10_000, 1, 30_000], // 2 ** 9999 is Infinity: still capped
  ])("attempt %d with random %d waits %d ms", (attempt, random, wait) => {
    expect(backoffMs(attempt, B, fixed(random))).toBe(wait);
  });

  test("attempts below 1 count as the first", () => {
    expect(backoffMs(0, B, fixed(0))).toBe(125);
    expect(backoffMs(-3, B, fixed(1))).toBe(250);
  });

  test("every wait is within [step / 2, step], whatever the random number", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(B.maxMs, B.baseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.37, 0.5, 0.81, 0.999999]) {
        const wait = backoffMs(attempt, B, fixed(r));
        expect(wait).toBeGreaterThanOrEqual(step / 2);
        expect(wait).toBeLessThanOrEqual(step);
        expect(Number.isInteger(wait)).toBe(true);
      }
    }
  });

  test("draws exactly one random number per call", () => {
    let draws = 0;
    backoffMs(3, B, () => (draws++, 0.5));
    expect(draws).toBe(1);
  });
});
