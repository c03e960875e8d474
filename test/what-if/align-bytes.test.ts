// The aligner keeps the earliest differing rows within maxBytes of JSON, however they arrive:
// a row weighed past the bound is left out, and so is every later one, even one small enough
// to fit, so that the rows kept are always the earliest with none missing between them.

import { describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/types.ts";
import { Aligner, type ReplayRow } from "../../src/what-if/align.ts";

const T0 = Date.parse("2026-03-01T00:00:00Z");

/** A recorded facts decision at second `n` (memory version `n`) that fired `rules` rules. */
const recorded = (n: number, rules: number): Decision =>
  ({
    id: `dec_${String(n).padStart(13, "0")}`,
    objectId: "o",
    at: T0 + n * 1_000,
    trigger: { kind: "facts" },
    memoryVersion: n,
    fired: Array.from({ length: rules }, (_, i) => ({ rule: `rule-${i}`, event: "wake", params: {} })),
    outcome: "no-change",
    toState: "active",
  }) as unknown as Decision;

const bytesOf = (rows: ReplayRow[]) => Buffer.byteLength(JSON.stringify(rows));

/** Decisions 1..40 with 1 to 60 fired rules each, fed in a fixed shuffled order. */
const sizes = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 60));
const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);

describe("Aligner and maxBytes", () => {
  test("rows arriving out of order: the longest run of the earliest that fits", () => {
    const all = new Aligner(1_000);
    for (const i of order) all.actual(recorded(i + 1, sizes[i]!));
    const whole = all.finish();
    expect(whole.map((r) => r.key)).toEqual(sizes.map((_, i) => `facts#${i + 1}`));

    const maxBytes = Math.floor(bytesOf(whole) / 3);
    const aligner = new Aligner(1_000, maxBytes);
    for (const i of order) aligner.actual(recorded(i + 1, sizes[i]!));
    const rows = aligner.finish();
    expect(aligner.differenceCount).toBe(40);
    expect(bytesOf(rows)).toBeLessThanOrEqual(maxBytes);
    // The earliest rows, and as many as fit: one more would pass the bound.
    expect(rows).toEqual(whole.slice(0, rows.length));
    expect(bytesOf(whole.slice(0, rows.length + 1))).toBeGreaterThan(maxBytes);
  });

  test("a row after one left out stays out, though it would fit", () => {
    const row = (n: number, rules: number) => {
      const one = new Aligner(1);
      one.actual(recorded(n, rules));
      return one.finish();
    };
    // Room for rows 1 and 2 and a small row 4, not for the large row 3.
    const maxBytes = bytesOf([...row(1, 1), ...row(2, 1), ...row(4, 1)]);
    const aligner = new Aligner(1_000, maxBytes);
    for (const [n, rules] of [
      [1, 1],
      [3, 40],
      [2, 1],
      [4, 1],
    ] as const)
      aligner.actual(recorded(n, rules));
    expect(aligner.finish().map((r) => r.key)).toEqual(["facts#1", "facts#2"]);
  });

  test("a row larger than maxBytes is kept when it is the earliest, alone", () => {
    const aligner = new Aligner(1_000, 100);
    aligner.actual(recorded(2, 1));
    aligner.actual(recorded(1, 50));
    const rows = aligner.finish();
    expect(rows.map((r) => r.key)).toEqual(["facts#1"]);
    expect(aligner.differenceCount).toBe(2);
  });

  test("maxRows and maxBytes together: whichever is reached first", () => {
    const aligner = new Aligner(3, 1_000_000);
    for (const i of order) aligner.actual(recorded(i + 1, sizes[i]!));
    expect(aligner.finish().map((r) => r.key)).toEqual(["facts#1", "facts#2", "facts#3"]);
  });
});
