// eachConcurrently: every item once, never more than `limit` at a time, sync or async sources,
// and the event loop turning between items however quickly the work settles.

import { expect, test } from "vitest";
import { eachConcurrently, nextTurn } from "../../src/core/concurrency.ts";

async function run(source: Iterable<number> | AsyncIterable<number>, limit: number) {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await eachConcurrently(source, limit, async (n) => {
    most = Math.max(most, ++running);
    await new Promise<void>((r) => queueMicrotask(r));
    await Promise.resolve();
    done.push(n);
    running--;
  });
  return { most, done: done.sort((a, b) => a - b) };
}

test("an array: every item once, at most `limit` at a time", async () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  expect(await run(items, 3)).toEqual({ most: 3, done: items });
  expect(await run([], 3)).toEqual({ most: 0, done: [] });
});

test("an async generator is pulled as workers free up", async () => {
  let pulled = 0;
  async function* source() {
    for (let i = 0; i < 10; i++) {
      pulled++;
      yield i;
    }
  }
  const r = await run(source(), 4);
  expect(r.done).toEqual(Array.from({ length: 10 }, (_, i) => i));
  expect(r.most).toBeLessThanOrEqual(4);
  expect(r.most).toBeGreaterThan(1);
  expect(pulled).toBe(10);
});

test("the event loop turns between items, even when the work never waits for it", async () => {
  // Work like the embedded database's reads: settled at once, behind a promise. Without a turn
  // between items, an immediate (and any request or timer) would wait for the whole run.
  let turned = -1;
  let done = 0;
  setImmediate(() => (turned = done));
  await eachConcurrently(
    Array.from({ length: 100 }, (_, i) => i),
    4,
    async () => {
      await Promise.resolve();
      done++;
    },
  );
  expect(done).toBe(100);
  expect(turned).toBeGreaterThanOrEqual(0);
  expect(turned).toBeLessThanOrEqual(8);
});

test("nextTurn resolves after the I/O and immediates already due", async () => {
  const seen: string[] = [];
  setImmediate(() => seen.push("immediate"));
  await nextTurn();
  seen.push("after");
  expect(seen).toEqual(["immediate", "after"]);
});
