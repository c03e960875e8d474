// The usage fold: time per state over a half-open window, wakes and state changes, from states
// entered in order or from stored decisions (with the confirmations no decision records), and
// properties over random histories: the times add up to the window, windows split add up to
// the whole.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { StateChange } from "../../src/core/store.ts";
import { LIFECYCLE_STATES, type LifecycleState } from "../../src/core/types.ts";
import { addTotals, emptyTotals, isWake, secondsOf, UsageFold, type UsageTotals } from "../../src/core/usage.ts";

const ms = (o: Partial<Record<LifecycleState, number>>) => ({ ...emptyTotals().ms, ...o });
const sum = (t: UsageTotals) => Object.values(t.ms).reduce((a, b) => a + b, 0);

describe("entered states", () => {
  test("time per state between the changes; a change at `from` counts, one at `to` does not", () => {
    const fold = new UsageFold({ from: 100, to: 200 }, "dormant");
    fold.enter("waking", 100);
    fold.enter("active", 110);
    fold.enter("sleeping", 180);
    fold.enter("dormant", 200);
    expect(fold.finish()).toEqual({ ms: ms({ waking: 10, active: 70, sleeping: 20 }), wakes: 1, transitions: 3 });
  });

  test("changes before the window set the state it starts in, and are not counted", () => {
    const fold = new UsageFold({ from: 100, to: 200 }, "dormant");
    fold.enter("waking", 10);
    fold.enter("active", 99);
    fold.enter("sleeping", 150);
    expect(fold.finish()).toEqual({ ms: ms({ active: 50, sleeping: 50 }), wakes: 0, transitions: 1 });
  });

  test("entering the state it is in is no change", () => {
    const fold = new UsageFold({ from: 0, to: 10 }, "active");
    fold.enter("active", 5);
    expect(fold.finish()).toEqual({ ms: ms({ active: 10 }), wakes: 0, transitions: 0 });
  });

  test("a change earlier than one already seen is taken at the later time", () => {
    const fold = new UsageFold({ from: 0, to: 100 }, "dormant");
    fold.enter("waking", 50);
    fold.enter("active", 40);
    expect(fold.finish()).toEqual({ ms: ms({ dormant: 50, active: 50 }), wakes: 1, transitions: 2 });
  });

  test("an unknown start takes the first state entered", () => {
    const fold = new UsageFold({ from: 0, to: 100 });
    fold.enter("active", 30);
    fold.enter("sleeping", 60);
    expect(fold.finish()).toEqual({ ms: ms({ active: 60, sleeping: 40 }), wakes: 0, transitions: 1 });
  });

  test.each<[LifecycleState, LifecycleState, boolean]>([
    ["dormant", "waking", true],
    ["sleeping", "waking", true],
    ["failed", "waking", true],
    ["dormant", "active", true],
    ["waking", "active", false],
    ["active", "sleeping", false],
    ["sleeping", "dormant", false],
    ["waking", "failed", false],
  ])("%s -> %s is a wake: %s", (from, to, wake) => {
    expect(isWake(from, to)).toBe(wake);
  });
});

const change = (
  id: string,
  at: number,
  fromState: LifecycleState,
  toState: LifecycleState,
  confirmedAt: number | null = null,
): StateChange => ({
  id,
  at,
  fromState,
  toState,
  confirmedAt,
});

describe("stored decisions", () => {
  test("a confirmation moves waking -> active and sleeping -> dormant at the time it was confirmed", () => {
    const fold = new UsageFold({ from: 0, to: 1000 });
    fold.decision(change("d1", 0, "dormant", "dormant"));
    fold.decision(change("d2", 100, "dormant", "waking", 130));
    fold.decision(change("d3", 500, "active", "sleeping", 520));
    expect(fold.finish({ state: "dormant", stateSince: 520 })).toEqual({
      ms: ms({ dormant: 100 + 480, waking: 30, active: 370, sleeping: 20 }),
      wakes: 1,
      transitions: 4,
    });
  });

  test("a confirmation after the object moved on changes nothing", () => {
    // Woken at 100, told to sleep at 110 before its start was confirmed at 150.
    const fold = new UsageFold({ from: 0, to: 1000 }, "dormant");
    fold.decision(change("d1", 100, "dormant", "waking", 150));
    fold.decision(change("d2", 110, "waking", "sleeping", 160));
    expect(fold.finish({ state: "dormant", stateSince: 160 })).toEqual({
      ms: ms({ dormant: 100 + 840, waking: 10, sleeping: 50 }),
      wakes: 1,
      transitions: 3,
    });
  });

  test("a confirmation in the same millisecond as the next decision: placed by where that decision starts", () => {
    const before = new UsageFold({ from: 0, to: 100 }, "dormant");
    before.decision(change("d1", 10, "dormant", "waking", 50));
    before.decision(change("d2", 50, "active", "active"));
    expect(before.finish()).toMatchObject({ ms: ms({ dormant: 10, waking: 40, active: 50 }), transitions: 2 });
    const after = new UsageFold({ from: 0, to: 100 }, "dormant");
    after.decision(change("d1", 10, "dormant", "waking", 50));
    after.decision(change("d2", 50, "waking", "sleeping"));
    expect(after.finish()).toMatchObject({ ms: ms({ dormant: 10, waking: 40, sleeping: 50 }), transitions: 2 });
  });

  test("a change no decision records is placed at the next decision, or at the object's stateSince", () => {
    const fold = new UsageFold({ from: 0, to: 100 }, "dormant");
    fold.decision(change("d1", 10, "dormant", "waking"));
    // Found running by an observation: the next decision starts from active.
    fold.decision(change("d2", 40, "active", "active"));
    expect(fold.finish({ state: "dormant", stateSince: 70 })).toEqual({
      ms: ms({ dormant: 10 + 30, waking: 30, active: 30 }),
      wakes: 1,
      transitions: 3,
    });
  });

  test("without a decision before the window, the first one's fromState starts it; without any, the current state", () => {
    const fold = new UsageFold({ from: 100, to: 200 });
    fold.decision(change("d1", 150, "active", "sleeping", 160));
    expect(fold.finish({ state: "dormant", stateSince: 160 })).toEqual({
      ms: ms({ active: 50, sleeping: 10, dormant: 40 }),
      wakes: 0,
      transitions: 2,
    });
    expect(new UsageFold({ from: 100, to: 200 }).finish({ state: "failed", stateSince: 0 })).toEqual({
      ms: ms({ failed: 100 }),
      wakes: 0,
      transitions: 0,
    });
  });

  test("totals add up per policy, and read as seconds to the millisecond", () => {
    const a = new UsageFold({ from: 0, to: 1500 }, "active").finish();
    const b = new UsageFold({ from: 0, to: 1001 }, "dormant").finish();
    const total = emptyTotals();
    addTotals(total, a);
    addTotals(total, b);
    expect(secondsOf(total.ms)).toEqual({ dormant: 1.001, waking: 0, active: 1.5, sleeping: 0, failed: 0 });
  });
});

const state = fc.constantFrom(...LIFECYCLE_STATES);
const window = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }))
  .map(([from, length]) => ({ from, to: from + length }));
/** Times around and inside the window, in any order. */
const at = fc.integer({ min: -1_000, max: 22_000 });

describe("properties", () => {
  test("the times add up to the window, whatever states come in whatever order", () => {
    fc.assert(
      fc.property(
        window,
        fc.option(state),
        fc.array(fc.tuple(state, at), { maxLength: 40 }),
        state,
        (w, initial, entries, now) => {
          const fold = new UsageFold(w, initial);
          for (const [s, t] of entries) fold.enter(s, t);
          const totals = fold.finish({ state: now, stateSince: w.from });
          expect(sum(totals)).toBe(w.to - w.from);
          expect(Object.values(totals.ms).every((v) => v >= 0)).toBe(true);
          expect(totals.wakes).toBeLessThanOrEqual(totals.transitions);
          expect(totals.transitions).toBeLessThanOrEqual(entries.length + 1);
        },
      ),
    );
  });

  test("the times add up to the window for any stored decisions, confirmations and current record", () => {
    const decision = fc.record({
      at,
      fromState: state,
      toState: state,
      confirmedAt: fc.option(at),
    });
    fc.assert(
      fc.property(window, fc.array(decision, { maxLength: 30 }), state, at, (w, ds, now, since) => {
        const fold = new UsageFold(w);
        ds.forEach((d, i) => fold.decision({ id: `d${i}`, ...d }));
        const totals = fold.finish({ state: now, stateSince: since });
        expect(sum(totals)).toBe(w.to - w.from);
        expect(Object.values(totals.ms).every((v) => v >= 0)).toBe(true);
      }),
    );
  });

  test("a window split in two adds up to the whole, each change counted once", () => {
    const sorted = fc.array(fc.tuple(state, at), { maxLength: 40 }).map((es) => es.sort((a, b) => a[1] - b[1]));
    fc.assert(
      fc.property(window, fc.double({ min: 0, max: 1, noNaN: true }), state, sorted, (w, cut, initial, entries) => {
        const mid = w.from + Math.floor((w.to - w.from) * cut);
        const fold = (from: number, to: number) => {
          const f = new UsageFold({ from, to }, initial);
          for (const [s, t] of entries) f.enter(s, t);
          return f.finish();
        };
        const parts = emptyTotals();
        if (mid > w.from) addTotals(parts, fold(w.from, mid));
        if (mid < w.to) addTotals(parts, fold(mid, w.to));
        expect(parts).toEqual(fold(w.from, w.to));
      }),
    );
  });
});
