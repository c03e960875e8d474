// BoundedMap keeps the newest `limit` entries. Checked against a plain model (an array in
// use order) over generated sequences of sets, gets and deletes, which mix drops with deletes
// and re-sets of the oldest, newest and middle entries; then that it keeps nothing it dropped
// or was told to delete alive.

import fc from "fast-check";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect, test } from "vitest";
import { BoundedMap } from "../../src/core/bounded-map.ts";

type Op = { op: "set"; key: number; value: number } | { op: "delete"; key: number } | { op: "get"; key: number };

const key = fc.integer({ min: 0, max: 12 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant("delete" as const), key }),
  fc.record({ op: fc.constant("get" as const), key }),
);

test("it holds what a model in use order holds, after any sequence of sets, deletes and gets", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 200 }), (limit, ops) => {
      const map = new BoundedMap<number, number>(limit);
      let model: [number, number][] = [];
      for (const o of ops) {
        if (o.op === "set") {
          model = model.filter(([k]) => k !== o.key);
          model.push([o.key, o.value]);
          while (model.length > Math.max(limit, 0)) model.shift();
          map.set(o.key, o.value);
        } else if (o.op === "delete") {
          const had = model.some(([k]) => k === o.key);
          model = model.filter(([k]) => k !== o.key);
          expect(map.delete(o.key)).toBe(had);
        } else {
          expect(map.get(o.key)).toBe(model.find(([k]) => k === o.key)?.[1]);
        }
        expect(map.size).toBe(model.length);
        for (let k = 0; k <= 12; k++) expect(map.has(k)).toBe(model.some(([m]) => m === k));
      }
    }),
    { numRuns: 500 },
  );
});

test("the oldest goes first, a re-set key counts as new, and a map emptied by deletes fills again", () => {
  const map = new BoundedMap<string, number>(2);
  map.set("a", 1);
  map.set("b", 2);
  map.set("a", 3); // a is now the newest
  map.set("c", 4); // drops b
  expect([map.has("a"), map.has("b"), map.has("c")]).toEqual([true, false, true]);
  map.delete("a");
  map.delete("c");
  expect(map.size).toBe(0);
  map.set("d", 5);
  map.set("e", 6);
  map.set("f", 7); // drops d
  expect([map.has("d"), map.get("e"), map.get("f"), map.size]).toEqual([false, 6, 7, 2]);
});

test("a limit of 0 keeps nothing", () => {
  const map = new BoundedMap<string, number>(0);
  map.set("a", 1);
  expect(map.size).toBe(0);
  expect(map.get("a")).toBeUndefined();
});

test("a value deleted, or dropped, is not kept alive by the map, however its keys came and went", async () => {
  // An earlier version kept one Map iterator from drop to drop, and the iterator kept every table
  // V8 had rebuilt since: a map that no longer filled to its limit, with keys still coming and
  // going, held on to deleted values (more with every rebuild).
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const map = new BoundedMap<string, object>(1000);
  const gone = churnBelowTheLimit(map);
  expect(map.size).toBeLessThan(1000);
  // A WeakRef holds its value until the job that made it ends.
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  gc();
  expect(gone.length).toBeGreaterThan(4000);
  expect(gone.filter((ref) => ref.deref() !== undefined).length).toBe(0);
});

/**
 * Fills `map` past its limit of 1,000, deletes 300, then adds a key and deletes another 5,000
 * times; returns refs to the values dropped or deleted.
 */
function churnBelowTheLimit(map: BoundedMap<string, object>): WeakRef<object>[] {
  const gone: WeakRef<object>[] = [];
  let n = 0;
  for (; n < 1200; n++) {
    const value = { n };
    if (n < 200) gone.push(new WeakRef(value)); // dropped as the map passes its limit
    map.set(`k${n}`, value);
  }
  for (let k = 200; k < 500; k++) {
    gone.push(new WeakRef(map.get(`k${k}`)!));
    map.delete(`k${k}`);
  }
  // Below the limit now (700): each change adds one key and deletes another, and nothing drops.
  for (let k = 500; k < 5500; k++) {
    map.set(`k${n++}`, { n });
    const old = k < 1200 ? `k${k}` : `k${k + 300}`;
    const value = map.get(old);
    if (value !== undefined) gone.push(new WeakRef(value));
    map.delete(old);
  }
  return gone;
}
