// Where the mouse reaches each decision's mark (hit-zones.js, run in Node): a lone mark has 12 px
// about its place; marks less than a pixel apart share one area, oldest on the left, a pixel a
// mark at least when nothing is near; nearby marks meet halfway, so that no mark's triangle lies
// in another stack's area; and no two areas overlap.

import { describe, expect, test } from "vitest";
import { hitZones } from "../../src/http/ui/assets/hit-zones.js";

const under = (zones: [number, number][], x: number) => zones.findIndex(([a, b]) => a <= x && x < b);

/** Areas in order, each after the one before, none overlapping. */
function expectInOrder(zones: [number, number][]) {
  for (let i = 1; i < zones.length; i++) expect(zones[i]![0]).toBeGreaterThanOrEqual(zones[i - 1]![1] - 1e-9);
  for (const [a, b] of zones) expect(b).toBeGreaterThan(a);
}

describe("hitZones", () => {
  test("a lone mark: 12 px centred on it", () => {
    expect(hitZones([100])).toEqual([[94, 106]]);
  });

  test("two marks far apart each keep their own 12 px", () => {
    expect(hitZones([100, 200])).toEqual([
      [94, 106],
      [194, 206],
    ]);
  });

  test("marks closer than 12 px meet halfway, each over its own triangle", () => {
    const zones = hitZones([100, 108]);
    expect(zones).toEqual([
      [94, 104],
      [104, 114],
    ]);
    expect(under(zones, 100)).toBe(0);
    expect(under(zones, 108)).toBe(1);
  });

  test("decisions at one instant share the place, oldest on the left", () => {
    const zones = hitZones([300, 300, 300]);
    expect(zones).toEqual([
      [294, 298],
      [298, 302],
      [302, 306],
    ]);
  });

  test("a lone mark beside a stack keeps its own triangle, however many the stack holds", () => {
    const zones = hitZones([100, ...Array.from({ length: 20 }, () => 111)]);
    expect(under(zones, 100)).toBe(0);
    expectInOrder(zones);
  });

  test("thirty decisions at one instant, nothing near: a pixel each", () => {
    const widths = hitZones(Array.from({ length: 30 }, () => 500)).map(([a, b]) => b - a);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(1);
  });

  test("any places in order: areas in order, never overlapping, each stack's over its own place", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let round = 0; round < 200; round++) {
      const xs: number[] = [];
      for (let x = 80, n = 1 + Math.floor(random() * 40); xs.length < n;) {
        x += random() < 0.4 ? random() * 0.5 : random() * 30;
        xs.push(x);
      }
      const zones = hitZones(xs);
      expect(zones).toHaveLength(xs.length);
      expectInOrder(zones);
      // Each stack (the marks less than a pixel from its first) has its first mark's place
      // within its area.
      for (let i = 0; i < xs.length;) {
        let j = i;
        while (j + 1 < xs.length && xs[j + 1]! - xs[i]! < 1) j++;
        expect(zones[i]![0]).toBeLessThanOrEqual(xs[i]!);
        expect(zones[j]![1]).toBeGreaterThanOrEqual(xs[i]!);
        i = j + 1;
      }
    }
  });
});
