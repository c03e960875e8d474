// The report labels each tick with how long its fact waited. It found each fact's wait with a
// call of its own, and every call built the object's next-active index anew from all its
// changes: facts x changes for an object that woke for each of its facts (a 90-day trickle of one
// object took 75 s with --report, 6 s without). Counted here in reads of the object's changes.
import { expect, test } from "vitest";
import type { Arrival, StateEntry, Trace } from "../../src/simulate/model.ts";
import { timelineRows } from "../../src/simulate/report.ts";
import type { SimulationResult } from "../../src/simulate/simulate.ts";

test("a row's tick labels read the object's changes about once, not once per fact", () => {
  // A thousand wakes, each for a fact that found the object dormant and waited 4 ms.
  const WAKES = 1000;
  const changes: StateEntry[] = [];
  const arrivals: Arrival[] = [];
  for (let k = 0; k < WAKES; k++) {
    const t = k * 10;
    changes.push({ state: "dormant", at: t });
    arrivals.push({ objectId: "o", at: t + 1, state: "dormant", mark: changes.length });
    changes.push({ state: "waking", at: t + 1 }, { state: "active", at: t + 5 });
  }
  let reads = 0;
  const counted = new Proxy(changes, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const trace: Trace = { name: "p", kind: "policy", changes: new Map([["o", counted]]), arrivals };
  const end = WAKES * 10;
  const result = { from: 0, to: end } as SimulationResult;

  const [row] = timelineRows(trace, result, 8);

  expect(row!.marks).toHaveLength(WAKES);
  expect(row!.marks![0]!.label).toBe("o: a fact at 1970-01-01T00:00:00.001Z found it dormant, waited 0.004 s");
  expect(row!.marks![WAKES - 1]!.label).toBe("o: a fact at 1970-01-01T00:00:09.991Z found it dormant, waited 0.004 s");
  // The segments and the index take a few passes over the 3,000 changes; a pass per fact took 3,000,000 reads.
  expect(reads).toBeLessThan(10 * changes.length);
});
