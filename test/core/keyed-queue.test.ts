// KeyedQueue: one task at a time per key, in order; keys side by side; a throwing task does not
// block the next; idle and busy.

import { describe, expect, test } from "vitest";
import { KeyedQueue } from "../../src/core/keyed-queue.ts";
import { flush } from "../../src/timers/clock.ts";

/** A task that runs until the test finishes it, logging when it starts and ends. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const task = () =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = () => {
        log.push(`end ${name}`);
        resolve(name);
      };
      fail = (e) => {
        log.push(`throw ${name}`);
        reject(e);
      };
    });
  return { task, finish: () => finish(), fail: (e: Error) => fail(e) };
}

describe("KeyedQueue", () => {
  test("tasks of one key run one at a time, in the order they were queued", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const [a, b, c] = [gate(log, "a"), gate(log, "b"), gate(log, "c")];
    const results = [q.run("k", a.task), q.run("k", b.task), q.run("k", c.task)];
    await flush();
    expect(log).toEqual(["start a"]);
    a.finish();
    await flush();
    expect(log).toEqual(["start a", "end a", "start b"]);
    b.finish();
    await flush();
    c.finish();
    expect(await Promise.all(results)).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  test("tasks of different keys run side by side", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const [x1, y1, x2] = [gate(log, "x1"), gate(log, "y1"), gate(log, "x2")];
    void q.run("x", x1.task);
    const y = q.run("y", y1.task);
    void q.run("x", x2.task);
    await flush();
    expect(log).toEqual(["start x1", "start y1"]);
    y1.finish();
    expect(await y).toBe("y1");
    // y finished while x1 still runs; x2 still waits for x1.
    expect(log).toEqual(["start x1", "start y1", "end y1"]);
    x1.finish();
    await flush();
    expect(log.at(-1)).toBe("start x2");
    x2.finish();
    await q.idle();
  });

  test("a task that throws rejects its own promise and does not block the next", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const [bad, next] = [gate(log, "bad"), gate(log, "next")];
    const failed = q.run("k", bad.task);
    const after = q.run("k", next.task);
    await flush();
    bad.fail(new Error("boom"));
    await expect(failed).rejects.toThrow("boom");
    await flush();
    expect(log).toEqual(["start bad", "throw bad", "start next"]);
    next.finish();
    expect(await after).toBe("next");
  });

  test("a task that throws synchronously is a rejection too", async () => {
    const q = new KeyedQueue();
    const failed = q.run("k", () => {
      throw new Error("at once");
    });
    await expect(failed).rejects.toThrow("at once");
    expect(await q.run("k", async () => 2)).toBe(2);
  });

  test("busy counts keys with a task queued or running; idle waits for all of them", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    expect(q.busy).toBe(0);
    await q.idle(); // nothing to wait for
    const [a1, a2, b1] = [gate(log, "a1"), gate(log, "a2"), gate(log, "b1")];
    void q.run("a", a1.task);
    void q.run("a", a2.task);
    void q.run("b", b1.task);
    expect(q.busy).toBe(2);
    let idle = false;
    void q.idle().then(() => (idle = true));
    await flush();
    b1.finish();
    await flush();
    expect(q.busy).toBe(1);
    a1.finish();
    await flush();
    expect(idle).toBe(false);
    expect(q.busy).toBe(1);
    a2.finish();
    await q.idle();
    expect(idle).toBe(true);
    expect(q.busy).toBe(0);
  });

  test("idle also waits for a task queued while it was waiting", async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const [first, second] = [gate(log, "first"), gate(log, "second")];
    void q.run("a", first.task);
    let idle = false;
    void q.idle().then(() => (idle = true));
    await flush();
    void q.run("b", second.task);
    first.finish();
    await flush();
    expect(idle).toBe(false);
    second.finish();
    await flush();
    expect(idle).toBe(true);
  });
});
