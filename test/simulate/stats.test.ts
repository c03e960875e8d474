// The figures of a row: nearest-rank percentiles, waits found from the state changes after each
// arrival, and state seconds that add up to objects x window.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { LifecycleState } from "../../src/core/types.ts";
import type { Arrival, StateEntry, Trace } from "../../src/simulate/model.ts";
import { figuresOf, percentile, waitsOf } from "../../src/simulate/stats.ts";
import { segmentsOf } from "../../src/simulate/timeline.ts";

describe("percentile (nearest rank)", () => {
  test.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 100, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, 1],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 11, 2],
    [[1, 2], 50, 1],
    [[7], 99, 7],
    [Array.from({ length: 200 }, (_, i) => i + 1), 99, 198],
  ])("%j at p%d is %d", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  test("no values, no percentile", () => {
    expect(percentile([], 50)).toBeNull();
  });
});

const ch = (state: LifecycleState, at: number): StateEntry => ({ state, at });

describe("waitsOf", () => {
  const changes = new Map([
    [
      "o",
      [ch("dormant", 0), ch("waking", 10), ch("active", 12), ch("sleeping", 20), ch("dormant", 20), ch("waking", 50)],
    ],
  ]);

  test("a fact waits from its arrival to the first move into active after it", () => {
    const arrivals: Arrival[] = [
      { objectId: "o", at: 10, state: "dormant", mark: 1 }, // woke it: active at 12
      { objectId: "o", at: 11, state: "waking", mark: 2 }, // arrived during the start
      { objectId: "o", at: 15, state: "active", mark: 3 }, // found it active: not a wait
      { objectId: "o", at: 30, state: "dormant", mark: 5 }, // woke it at 50, never active by the end
    ];
    expect(waitsOf(arrivals, changes, 100)).toEqual({ waits: [2, 1], unserved: 1 });
  });

  test("the mark, not the time, says which changes come after the arrival", () => {
    // At 20 the object went sleeping then dormant; a fact at 20 after that waits for the next
    // active, although an active change also happened at an earlier time.
    const c = new Map([["o", [ch("dormant", 0), ch("active", 20), ch("dormant", 20), ch("active", 25)]]]);
    expect(waitsOf([{ objectId: "o", at: 20, state: "dormant", mark: 3 }], c, 100).waits).toEqual([5]);
    expect(waitsOf([{ objectId: "o", at: 20, state: "dormant", mark: 1 }], c, 100).waits).toEqual([0]);
  });

  test("an object active only when or after the window ends leaves the fact unserved", () => {
    const c = new Map([["o", [ch("dormant", 0), ch("waking", 10), ch("active", 40)]]]);
    const a: Arrival[] = [{ objectId: "o", at: 10, state: "dormant", mark: 1 }];
    expect(waitsOf(a, c, 39)).toEqual({ waits: [], unserved: 1 });
    // The window is half-open: its seconds leave a change at its end out, and so do the waits.
    expect(waitsOf(a, c, 40)).toEqual({ waits: [], unserved: 1 });
    expect(waitsOf(a, c, 41)).toEqual({ waits: [30], unserved: 0 });
  });

  test("the same as looking forward from each arrival, over random histories (found in one pass per object)", () => {
    const states: LifecycleState[] = ["dormant", "waking", "active", "sleeping", "failed"];
    /** The plain definition: from the arrival's mark, the first `active` before the end. */
    const reference = (arrivals: Arrival[], c: Map<string, StateEntry[]>, end: number) => {
      const waits: number[] = [];
      let unserved = 0;
      for (const a of arrivals) {
        if (a.state === "active" || a.at > end) continue;
        const list = c.get(a.objectId) ?? [];
        const i = list.findIndex((e, j) => j >= a.mark && e.state === "active");
        if (i >= 0 && list[i]!.at < end) waits.push(list[i]!.at - a.at);
        else unserved++;
      }
      return { waits, unserved };
    };
    const history = fc.array(fc.tuple(fc.constantFrom(...states), fc.nat(5)), { maxLength: 30 }).map((steps) => {
      let at = 0;
      return steps.map(([state, gap]) => ch(state, (at += gap)));
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("a", "b", "c"), history),
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d"), fc.nat(150), fc.constantFrom(...states), fc.nat(35))),
        fc.nat(160),
        (lists, raw, end) => {
          const c = new Map(Object.entries(lists));
          const arrivals = raw.map(([objectId, at, state, mark]) => ({ objectId, at, state, mark }));
          expect(waitsOf(arrivals, c, end)).toEqual(reference(arrivals, c, end));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("segmentsOf", () => {
  test("spans up to the end, without spans of no time or after the end", () => {
    const list = [ch("dormant", 0), ch("waking", 10), ch("active", 10), ch("dormant", 30), ch("waking", 80)];
    expect(segmentsOf(list, 50)).toEqual([
      { state: "dormant", from: 0, to: 10 },
      { state: "active", from: 10, to: 30 },
      { state: "dormant", from: 30, to: 50 },
    ]);
  });
});

describe("figuresOf", () => {
  test("seconds per state, wakes, waits and the saving of a hand-made trace", () => {
    const trace: Trace = {
      name: "p",
      kind: "policy",
      changes: new Map([
        [
          "a",
          [ch("dormant", 0), ch("waking", 1000), ch("active", 3000), ch("sleeping", 63_000), ch("dormant", 64_000)],
        ],
        ["b", [ch("dormant", 0)]],
      ]),
      arrivals: [
        { objectId: "a", at: 1000, state: "dormant", mark: 1 },
        { objectId: "a", at: 2000, state: "waking", mark: 2 },
        { objectId: "a", at: 10_000, state: "active", mark: 3 },
      ],
    };
    const f = figuresOf(trace, 100_000);
    expect(f.seconds).toEqual({ active: 60, waking: 2, sleeping: 1, dormant: 137, failed: 0 });
    expect(f.objectSeconds).toBe(200);
    expect(f.wakes).toBe(1);
    expect(f.facts).toBe(3);
    expect(f.waited).toEqual({ count: 2, unserved: 0, p50: 1, p99: 2, max: 2 });
    expect(f.saving).toBeCloseTo(1 - 63 / 200, 12);
  });

  test("property: the state seconds add up to the objects' time in the window", () => {
    const STATES: LifecycleState[] = ["dormant", "waking", "active", "sleeping", "failed"];
    const object = fc.record({
      createdAt: fc.integer({ min: 0, max: 50_000 }),
      moves: fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.constantFrom(...STATES)), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(
        fc.array(object, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 200_000 }),
        (objs, end) => {
          const changes = new Map<string, StateEntry[]>();
          objs.forEach((o, i) => {
            const list = [ch("dormant", o.createdAt)];
            let at = o.createdAt;
            for (const [gap, state] of o.moves) {
              at += gap;
              list.push(ch(state, at));
            }
            changes.set(`o${i}`, list);
          });
          const f = figuresOf({ name: "p", kind: "policy", changes, arrivals: [] }, end);
          const total = Object.values(f.seconds).reduce((x, y) => x + y, 0);
          const expected = objs.reduce((s, o) => s + Math.max(0, end - o.createdAt), 0) / 1000;
          expect(total).toBeCloseTo(expected, 6);
          expect(f.objectSeconds).toBeCloseTo(expected, 6);
        },
      ),
      { seed: 6, numRuns: 300 },
    );
  });
});
