// The scheduler on the system clock when the wall clock steps forward (NTP, a machine resumed
// from suspend): Node's timers count elapsed time, so an armed wait of an hour would still be an
// hour after a step of a day, and a row due meanwhile would wait it out. The scheduler looks at
// the wall clock at least every MAX_SLEEP_MS. Node's timers and Date are vitest's fakes here,
// moved apart as a step moves them.

import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { emptyBatch } from "../../src/core/store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SystemClock } from "../../src/timers/clock.ts";
import { MAX_SLEEP_MS, Scheduler } from "../../src/timers/scheduler.ts";
import { makeObject } from "../helpers/records.ts";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const HOUR = 3_600_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "setImmediate"] });
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

test.each([
  ["forward a day", 24 * HOUR, 1],
  ["back a day", -24 * HOUR, 0],
])(
  "the wall clock steps %s: a row due by the wall clock fires within MAX_SLEEP_MS, none before",
  async (_what, step, expected) => {
    const store = new MemoryStore();
    const fired: number[] = [];
    const scheduler = new Scheduler(store, new SystemClock(), {
      fire: async (t) => {
        fired.push(Date.now());
        const o = (await store.getObject(t.objectId))!;
        await store.commit([{ ...emptyBatch(o), timerOps: [{ name: t.name, op: "cancel", kind: t.kind }] }]);
      },
      onError: (e) => {
        throw e;
      },
    });
    await scheduler.start();
    const o = makeObject({ id: "o" });
    await store.commit([
      { ...emptyBatch(o), timerOps: [{ name: "t", op: "set", dueAt: T0 + HOUR, kind: "schedule" }] },
    ]);
    scheduler.notify(T0 + HOUR);
    vi.setSystemTime(T0 + step);
    await vi.advanceTimersByTimeAsync(MAX_SLEEP_MS);
    expect(fired.length).toBe(expected);
    if (expected === 1) expect(fired[0]! - (T0 + step)).toBeLessThanOrEqual(MAX_SLEEP_MS);
    scheduler.stop();
  },
);
