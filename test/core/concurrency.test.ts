// eachConcurrently: every item once, never more than `limit` at a time, sync or async sources.

import { expect, test } from "vitest";
import { eachConcurrently } from "../../src/core/concurrency.ts";

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
