// The durable Scheduler on its own, over a real MemoryStore and a virtual clock: due order,
// recovery, lateness, re-arming on notify, retries of a failed firing, stop, bursts fired
// concurrently up to a bound, and which reads re-arm the clock after a round. It runs past 400
// lines because every behaviour of the one class is here, beside the rig they share.

import { describe, expect, test } from "vitest";
import { emptyBatch, type DueTimer } from "../../src/core/store.ts";
import { LATE_AFTER_MS, setAll } from "../../src/core/timers.ts";
import type { Timer } from "../../src/core/types.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush, VirtualClock } from "../../src/timers/clock.ts";
import { Scheduler, type SchedulerOptions } from "../../src/timers/scheduler.ts";
import { HOUR, SECOND, T0, makeObject } from "../helpers/records.ts";

interface Firing {
  objectId: string;
  name: string;
  dueAt: number;
  late: boolean;
  at: number;
}

/** A MemoryStore that records the `until` of every due-timer read (nextTimer reads to the end of time). */
class RecordingStore extends MemoryStore {
  readonly reads: number[] = [];
  /**
   * Runs once, inside the first read of rows due later than `after` (one that looks ahead for
   * the next due time), after the rows were read and before they are returned.
   */
  duringRead: { after: number; run: () => Promise<void> } | null = null;

  override async dueTimers(until: number, limit: number): Promise<DueTimer[]> {
    const rows = await super.dueTimers(until, limit);
    this.reads.push(until);
    const during = this.duringRead;
    if (during && until > during.after) {
      this.duringRead = null;
      await during.run();
    }
    return rows;
  }

  /** Reads of the earliest row of all (the ones that sort every row sharing its due time). */
  get fullReads(): number {
    return this.reads.filter((u) => u === Number.MAX_SAFE_INTEGER).length;
  }
}

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A scheduler whose `fire` hook logs the firing and consumes the timer row (as the governor's
 * does), except for the timers named in `failing`: for those it throws and leaves the row.
 */
function rig(start = T0, options: SchedulerOptions = {}) {
  const clock = new VirtualClock(start);
  const store = new RecordingStore();
  const fired: Firing[] = [];
  const attempts: string[] = [];
  const errors: { message: string; context: string }[] = [];
  const failing = new Set<string>();
  let onFire: ((t: DueTimer) => Promise<void> | void) | null = null;
  const scheduler = new Scheduler(
    store,
    clock,
    {
      fire: async (t, late) => {
        attempts.push(`${t.objectId}/${t.name}`);
        await onFire?.(t);
        if (failing.has(t.name)) throw new Error(`evaluating ${t.name} failed`);
        fired.push({ objectId: t.objectId, name: t.name, dueAt: t.dueAt, late, at: clock.now() });
        const object = (await store.getObject(t.objectId))!;
        await store.commit([{ ...emptyBatch(object), timerOps: [{ name: t.name, op: "cancel", kind: t.kind }] }]);
      },
      onError: (e, context) => errors.push({ message: e.message, context }),
    },
    options,
  );
  /** Sets timers on an object through a commit, as a decision would. */
  const setTimers = async (objectId: string, timers: Omit<Timer, "kind">[]) => {
    const object = (await store.getObject(objectId)) ?? makeObject({ id: objectId });
    const ops = setAll(timers.map((t) => ({ ...t, kind: "schedule" as const })));
    await store.commit([{ ...emptyBatch(object), timerOps: ops }]);
  };
  const advance = (ms: number) =>
    clock.advance(ms, async () => {
      await flush();
      await scheduler.idle();
    });
  const advanceTo = (at: number) => advance(at - clock.now());
  const names = () => fired.map((f) => f.name);
  return {
    clock,
    store,
    scheduler,
    fired,
    attempts,
    errors,
    failing,
    setTimers,
    advance,
    advanceTo,
    names,
    /** Runs inside the fire hook, before the firing fails or consumes its row. */
    onFire: (fn: (t: DueTimer) => Promise<void> | void) => (onFire = fn),
  };
}

describe("firing", () => {
  test("due timers fire in due order, each at its due time, through the fire hook", async () => {
    const r = rig();
    await r.setTimers("o1", [
      { name: "o1-late", dueAt: T0 + 300 },
      { name: "o1-early", dueAt: T0 + 200 },
    ]);
    await r.setTimers("o2", [{ name: "o2-first", dueAt: T0 + 100 }]);
    await r.setTimers("o3", [{ name: "o3-last", dueAt: T0 + 10 * SECOND }]);
    await r.scheduler.start();
    expect(r.fired).toEqual([]);
    expect(r.clock.waiting).toBe(1); // exactly one clock timer, for the earliest row

    await r.advance(250);
    expect(r.fired).toEqual([
      { objectId: "o2", name: "o2-first", dueAt: T0 + 100, late: false, at: T0 + 100 },
      { objectId: "o1", name: "o1-early", dueAt: T0 + 200, late: false, at: T0 + 200 },
    ]);
    await r.advanceTo(T0 + 10 * SECOND);
    expect(r.names()).toEqual(["o2-first", "o1-early", "o1-late", "o3-last"]);
    expect(r.fired.every((f) => f.at === f.dueAt && !f.late)).toBe(true);
    expect(await r.store.nextTimer()).toBeNull();
    expect(r.clock.waiting).toBe(0);
    expect(r.errors).toEqual([]);
  });

  test("timers due at the same time fire in one round, in object then name order", async () => {
    const r = rig();
    await r.setTimers("o2", [{ name: "x", dueAt: T0 + SECOND }]);
    await r.setTimers("o1", [
      { name: "y", dueAt: T0 + SECOND },
      { name: "x", dueAt: T0 + SECOND },
    ]);
    await r.scheduler.start();
    await r.advance(SECOND);
    expect(r.fired.map((f) => `${f.objectId}/${f.name}`)).toEqual(["o1/x", "o1/y", "o2/x"]);
  });
});

describe("recovery at start", () => {
  test("every overdue timer fires once, late, in due order; future ones wait for their time", async () => {
    const r = rig();
    await r.setTimers("o1", [
      { name: "long-overdue", dueAt: T0 - 60 * SECOND },
      { name: "future", dueAt: T0 + 5 * SECOND },
    ]);
    // Overdue by a few ms only: still late, it fell due while the server was down.
    await r.setTimers("o2", [{ name: "just-overdue", dueAt: T0 - 10 }]);
    await r.scheduler.start();
    expect(r.fired).toEqual([
      { objectId: "o1", name: "long-overdue", dueAt: T0 - 60 * SECOND, late: true, at: T0 },
      { objectId: "o2", name: "just-overdue", dueAt: T0 - 10, late: true, at: T0 },
    ]);
    await r.advance(5 * SECOND);
    expect(r.fired.at(-1)).toEqual({
      objectId: "o1",
      name: "future",
      dueAt: T0 + 5 * SECOND,
      late: false,
      at: T0 + 5 * SECOND,
    });
    expect(r.attempts).toHaveLength(3);
  });

  test("a timer that falls due during the first round is not late for being fired in it", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "overdue", dueAt: T0 - SECOND }]);
    await r.setTimers("o2", [{ name: "soon", dueAt: T0 + 300 }]);
    // The overdue firing takes half a second (a busy mailbox, many overdue rows): "soon" falls
    // due meanwhile, and the same round fires it, 200 ms after its due time.
    r.onFire(async (t) => {
      if (t.name === "overdue") await r.clock.advance(500);
    });
    await r.scheduler.start();
    expect(r.fired).toEqual([
      { objectId: "o1", name: "overdue", dueAt: T0 - SECOND, late: true, at: T0 + 500 },
      { objectId: "o2", name: "soon", dueAt: T0 + 300, late: false, at: T0 + 500 },
    ]);
  });

  test("more than a page of overdue timers all fire, once each, in due order", async () => {
    const r = rig(T0, { page: 256, concurrency: 64 });
    const n = 600;
    for (let i = 0; i < n; i++)
      await r.setTimers(`o${String(i).padStart(4, "0")}`, [{ name: `t${i}`, dueAt: T0 - n + i }]);
    await r.scheduler.start();
    expect(r.names()).toEqual(Array.from({ length: n }, (_, i) => `t${i}`));
    expect(r.fired.every((f) => f.late)).toBe(true);
    expect(r.attempts).toHaveLength(n);
  });
});

describe("lateness", () => {
  async function firedAfter(delay: number): Promise<Firing> {
    const r = rig();
    await r.setTimers("o1", [{ name: "t", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    // The process stalls: the clock moves past the due time without the callback running.
    r.clock.jumpTo(T0 + SECOND + delay);
    await r.advance(0);
    expect(r.fired).toHaveLength(1);
    return r.fired[0]!;
  }

  test(`a timer fired more than LATE_AFTER_MS (${LATE_AFTER_MS} ms) after its due time is late`, async () => {
    expect(await firedAfter(LATE_AFTER_MS + 1)).toMatchObject({ late: true, at: T0 + SECOND + LATE_AFTER_MS + 1 });
    expect(await firedAfter(30 * SECOND)).toMatchObject({ late: true });
  });

  test("a timer fired within LATE_AFTER_MS of its due time is not late", async () => {
    expect(await firedAfter(LATE_AFTER_MS)).toMatchObject({ late: false, at: T0 + SECOND + LATE_AFTER_MS });
    expect(await firedAfter(1)).toMatchObject({ late: false });
    expect(await firedAfter(0)).toMatchObject({ late: false, at: T0 + SECOND });
  });
});

describe("notify", () => {
  test("a timer set earlier than the armed one re-arms the clock for it", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "later", dueAt: T0 + 10 * SECOND }]);
    await r.scheduler.start();
    await r.setTimers("o2", [{ name: "sooner", dueAt: T0 + SECOND }]);
    r.scheduler.notify(T0 + SECOND);
    expect(r.clock.waiting).toBe(1); // the old clock timer was replaced, not joined
    await r.advance(SECOND);
    expect(r.fired).toEqual([{ objectId: "o2", name: "sooner", dueAt: T0 + SECOND, late: false, at: T0 + SECOND }]);
    await r.advanceTo(T0 + 10 * SECOND);
    expect(r.names()).toEqual(["sooner", "later"]);
    expect(r.fired[1]).toMatchObject({ at: T0 + 10 * SECOND, late: false });
  });

  test("without notify an earlier timer waits for the armed one (what notify is for)", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "later", dueAt: T0 + 10 * SECOND }]);
    await r.scheduler.start();
    await r.setTimers("o2", [{ name: "sooner", dueAt: T0 + SECOND }]);
    await r.advance(5 * SECOND);
    expect(r.fired).toEqual([]);
    await r.advanceTo(T0 + 10 * SECOND);
    expect(r.fired[0]).toMatchObject({ name: "sooner", late: true, at: T0 + 10 * SECOND });
  });

  test("a later timer does not postpone the armed one", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "first", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    await r.setTimers("o2", [{ name: "second", dueAt: T0 + 5 * SECOND }]);
    r.scheduler.notify(T0 + 5 * SECOND);
    expect(r.clock.waiting).toBe(1);
    await r.advance(SECOND);
    expect(r.names()).toEqual(["first"]);
    await r.advance(4 * SECOND);
    expect(r.names()).toEqual(["first", "second"]);
    expect(r.fired.every((f) => !f.late)).toBe(true);
  });

  test("a notify that comes as a round ends, however late in its last turn, is not lost", async () => {
    // The notify lands k microtasks after the round's last read began: for some k, after the
    // round armed the clock and before the scheduler marked itself idle.
    for (let k = 0; k < 16; k++) {
      const r = rig();
      await r.setTimers("o1", [{ name: "first", dueAt: T0 + SECOND }]);
      await r.scheduler.start();
      r.store.duringRead = {
        after: T0 + SECOND,
        run: async () => {
          let p = Promise.resolve();
          for (let i = 0; i < k; i++) p = p.then(() => {});
          void p.then(async () => {
            await r.setTimers("o2", [{ name: "second", dueAt: T0 + 5 * SECOND }]);
            r.scheduler.notify(T0 + 5 * SECOND);
          });
        },
      };
      await r.advanceTo(T0 + 10 * SECOND);
      expect({ k, fired: r.names() }).toEqual({ k, fired: ["first", "second"] });
    }
  });

  test("a timer set and notified while a round runs, already due, fires in that round", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "first", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    // While "first" fires, its evaluation sets a timer on another object that is already due.
    r.onFire(async (t) => {
      if (t.name !== "first") return;
      await r.setTimers("o2", [{ name: "due-now", dueAt: T0 + SECOND }]);
      r.scheduler.notify(T0 + SECOND);
    });
    await r.advance(SECOND);
    expect(r.fired.map((f) => [f.name, f.at, f.late])).toEqual([
      ["first", T0 + SECOND, false],
      ["due-now", T0 + SECOND, false],
    ]);
    expect(r.clock.waiting).toBe(0);
  });
});

describe("a firing that fails", () => {
  test("is retried in a later round, LATE_AFTER_MS on, not in a tight loop; others fire", async () => {
    const r = rig();
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: T0 + SECOND }]);
    await r.setTimers("o2", [{ name: "fine", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    await r.advance(SECOND);
    expect(r.attempts).toEqual(["o1/broken", "o2/fine"]);
    expect(r.names()).toEqual(["fine"]);
    expect(r.errors).toEqual([{ message: "evaluating broken failed", context: "timer broken of o1" }]);

    // The row is still there, but nothing tries it again before the retry time.
    await r.advance(LATE_AFTER_MS - 1);
    expect(r.attempts).toHaveLength(2);
    await r.advance(1);
    expect(r.attempts).toEqual(["o1/broken", "o2/fine", "o1/broken"]);
    await r.advance(LATE_AFTER_MS);
    expect(r.attempts.filter((a) => a === "o1/broken")).toHaveLength(3);

    // Once it works, the row is consumed and nothing is armed any more.
    r.failing.delete("broken");
    await r.advance(LATE_AFTER_MS);
    expect(r.attempts.filter((a) => a === "o1/broken")).toHaveLength(4);
    expect(r.fired.at(-1)).toMatchObject({ name: "broken", late: true, at: T0 + SECOND + 3 * LATE_AFTER_MS });
    await r.advance(60 * SECOND);
    expect(r.attempts).toHaveLength(5);
    expect(r.clock.waiting).toBe(0);
  });

  // On a full disk every due timer's firing failed each second, and each failure was logged.
  test("that keeps failing the same way is told once, not at every retry; again when it fails otherwise, and after it fired", async () => {
    const r = rig();
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    await r.advance(SECOND);
    await r.advance(3 * LATE_AFTER_MS);
    expect(r.attempts).toEqual(["o1/broken", "o1/broken", "o1/broken", "o1/broken"]);
    const told = { message: "evaluating broken failed", context: "timer broken of o1" };
    expect(r.errors).toEqual([told]);
    // It fails otherwise: told, once.
    r.onFire(() => {
      throw new Error("database or disk is full");
    });
    await r.advance(2 * LATE_AFTER_MS);
    const full = { message: "database or disk is full", context: "timer broken of o1" };
    expect(r.errors).toEqual([told, full]);
    // It fires; set again, and failing as before, it is told again.
    r.onFire(() => {});
    r.failing.delete("broken");
    await r.advance(LATE_AFTER_MS);
    expect(r.names()).toEqual(["broken"]);
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: r.clock.now() + SECOND }]);
    r.scheduler.notify(r.clock.now() + SECOND);
    await r.advance(SECOND + LATE_AFTER_MS);
    expect(r.errors).toEqual([told, full, told]);
  });

  test("while it waits for its retry, a timer due before then fires on time, and the broken one is not tried early", async () => {
    const r = rig();
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: T0 + SECOND }]);
    await r.setTimers("o2", [{ name: "soon", dueAt: T0 + SECOND + 300 }]);
    await r.scheduler.start();
    await r.advance(SECOND);
    expect(r.attempts).toEqual(["o1/broken"]);
    await r.advance(300);
    expect(r.fired).toEqual([
      { objectId: "o2", name: "soon", dueAt: T0 + SECOND + 300, late: false, at: T0 + SECOND + 300 },
    ]);
    // A timer set meanwhile, due before the retry, fires on time too.
    await r.setTimers("o3", [{ name: "later", dueAt: T0 + SECOND + 600 }]);
    r.scheduler.notify(T0 + SECOND + 600);
    await r.advance(300);
    expect(r.names()).toEqual(["soon", "later"]);
    expect(r.fired.at(-1)).toMatchObject({ at: T0 + SECOND + 600, late: false });
    expect(r.attempts.filter((a) => a === "o1/broken")).toHaveLength(1);
    await r.advance(LATE_AFTER_MS - 600);
    expect(r.attempts.filter((a) => a === "o1/broken")).toHaveLength(2);
  });

  test("failed rows that fill a whole page do not hide the others due, nor make the scheduler spin", async () => {
    const r = rig(T0, { page: 1 });
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: T0 + 100 }]);
    await r.setTimers("o2", [{ name: "soon", dueAt: T0 + 200 }]);
    await r.scheduler.start();
    await r.advance(100);
    const reads = r.store.reads.length;
    // A guard, so that a scheduler spinning at one instant ends.
    const dueTimers = r.store.dueTimers.bind(r.store);
    r.store.dueTimers = async (until, limit) => {
      if (r.store.reads.length > reads + 50) r.scheduler.stop();
      return dueTimers(until, limit);
    };
    await r.advance(100);
    expect(r.names()).toEqual(["soon"]);
    expect(r.store.reads.length - reads).toBeLessThan(10);
  });

  test("a failing overdue timer at start does not hold back the rest of recovery", async () => {
    const r = rig();
    r.failing.add("broken");
    await r.setTimers("o1", [{ name: "broken", dueAt: T0 - SECOND }]);
    await r.setTimers("o2", [{ name: "fine", dueAt: T0 - 1 }]);
    await r.scheduler.start();
    expect(r.attempts).toEqual(["o1/broken", "o2/fine"]);
    expect(r.clock.waiting).toBe(1);
    await r.advance(LATE_AFTER_MS);
    expect(r.attempts).toEqual(["o1/broken", "o2/fine", "o1/broken"]);
  });
});

describe("stop", () => {
  test("stop clears the armed timer; nothing fires afterwards, notify included", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "t", dueAt: T0 + SECOND }]);
    await r.scheduler.start();
    expect(r.clock.waiting).toBe(1);
    r.scheduler.stop();
    expect(r.clock.waiting).toBe(0);
    r.scheduler.notify(T0 + SECOND);
    expect(r.clock.waiting).toBe(0);
    await r.advance(60 * SECOND);
    expect(r.attempts).toEqual([]);
    // start() again recovers it, late.
    await r.scheduler.start();
    expect(r.fired).toEqual([{ objectId: "o1", name: "t", dueAt: T0 + SECOND, late: true, at: T0 + 60 * SECOND }]);
  });

  test("stop during a round ends it and arms nothing", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "first", dueAt: T0 + SECOND }]);
    await r.setTimers("o2", [{ name: "second", dueAt: T0 + 2 * SECOND }]);
    await r.scheduler.start();
    r.onFire((t) => {
      if (t.name === "first") r.scheduler.stop();
    });
    await r.advance(10 * SECOND);
    expect(r.names()).toEqual(["first"]);
    expect(r.clock.waiting).toBe(0);
    expect(r.scheduler.busy).toBe(false);
  });
});

describe("a burst", () => {
  /** `n` objects with one timer each, all due at T0 + 1 s. */
  async function burst(r: ReturnType<typeof rig>, n: number) {
    for (let i = 0; i < n; i++)
      await r.setTimers(`o${String(i).padStart(3, "0")}`, [{ name: "tick", dueAt: T0 + SECOND }]);
  }

  test("fires due timers side by side, up to the bound, starting each in due order as one finishes", async () => {
    const r = rig(T0, { page: 100, concurrency: 4 });
    await burst(r, 10);
    const gates = new Map<string, () => void>();
    r.onFire((t) => {
      const gate = deferred();
      gates.set(t.objectId, gate.resolve);
      return gate.promise;
    });
    await r.scheduler.start();
    await r.clock.advance(SECOND); // fires the clock timer; the firings wait at their gates
    await flush();
    expect(r.attempts).toEqual(["o000/tick", "o001/tick", "o002/tick", "o003/tick"]);
    expect(r.scheduler.busy).toBe(true);

    // One finishes: exactly one more starts, the next in due order.
    gates.get("o002")!();
    await flush();
    expect(r.attempts).toHaveLength(5);
    expect(r.attempts.at(-1)).toBe("o004/tick");

    // Let every one through as it comes.
    r.onFire(() => undefined);
    for (const open of gates.values()) open();
    await r.scheduler.idle();
    expect(r.attempts).toEqual(Array.from({ length: 10 }, (_, i) => `o${String(i).padStart(3, "0")}/tick`));
    expect(r.fired).toHaveLength(10);
    expect(r.fired.every((f) => f.at === T0 + SECOND && !f.late)).toBe(true);
    expect(r.scheduler.peakConcurrency).toBe(4);
    expect(await r.store.nextTimer()).toBeNull();
  });

  test("reads the next page while the last one is still firing, and fires no row twice", async () => {
    const r = rig(T0, { page: 3, concurrency: 2 });
    await burst(r, 11);
    // Each firing waits for the next one to start: a page is read while rows of the last are in flight.
    let release: (() => void) | null = null;
    r.onFire(() => {
      release?.();
      const gate = deferred();
      release = gate.resolve;
      return gate.promise;
    });
    await r.scheduler.start();
    await r.clock.advance(SECOND);
    await flush();
    const ahead = (release as (() => void) | null)!;
    ahead();
    await r.scheduler.idle();
    expect(r.attempts).toEqual(Array.from({ length: 11 }, (_, i) => `o${String(i).padStart(3, "0")}/tick`));
    expect(new Set(r.fired.map((f) => f.objectId)).size).toBe(11);
    // Pages of 3 (plus the rows still firing), not one read per row.
    expect(r.store.reads.filter((u) => u === T0 + SECOND).length).toBeLessThanOrEqual(6);
  });

  test("a firing that fails in a burst does not stop the others, and is retried later", async () => {
    const r = rig(T0, { page: 4, concurrency: 3 });
    await burst(r, 8);
    await r.setTimers("o005", [{ name: "broken", dueAt: T0 + SECOND }]);
    r.failing.add("broken");
    await r.scheduler.start();
    await r.advance(SECOND);
    expect(r.attempts).toHaveLength(9);
    expect(r.fired).toHaveLength(8);
    expect(r.errors).toEqual([{ message: "evaluating broken failed", context: "timer broken of o005" }]);
    r.failing.clear();
    await r.advance(LATE_AFTER_MS - 1);
    expect(r.attempts).toHaveLength(9);
    await r.advance(1);
    expect(r.attempts.at(-1)).toBe("o005/broken");
    expect(r.fired.at(-1)).toMatchObject({ name: "broken", late: false, at: T0 + SECOND + LATE_AFTER_MS });
  });
});

describe("re-arming after a round", () => {
  test("the earliest row is read once per due time; rounds short of it read only the rows before it", async () => {
    const r = rig();
    // A fleet's schedule: 50 objects due at the same instant, an hour on.
    for (let i = 0; i < 50; i++) await r.setTimers(`fleet-${i}`, [{ name: "tick", dueAt: T0 + HOUR }]);
    await r.scheduler.start();
    expect(r.store.fullReads).toBe(1);

    // Single timers come and go meanwhile; none of their rounds reads the fleet's rows again.
    for (let k = 1; k <= 5; k++) {
      await r.setTimers(`single-${k}`, [{ name: "ping", dueAt: T0 + k * SECOND }]);
      r.scheduler.notify(T0 + k * SECOND);
      await r.advanceTo(T0 + k * SECOND);
    }
    expect(r.names()).toEqual(["ping", "ping", "ping", "ping", "ping"]);
    expect(r.fired.every((f) => f.at === f.dueAt)).toBe(true);
    expect(r.store.fullReads).toBe(1);
    expect(r.store.reads.filter((u) => u === T0 + HOUR - 1)).toHaveLength(5);

    // The fleet fires on time, then the earliest row is read again.
    await r.advanceTo(T0 + HOUR);
    expect(r.fired.filter((f) => f.name === "tick" && f.at === T0 + HOUR)).toHaveLength(50);
    expect(r.store.fullReads).toBe(2);
    expect(r.clock.waiting).toBe(0);
  });

  test("a row moved earlier than the floor, or one set while the next due time is read, is not missed", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "first", dueAt: T0 + SECOND }]);
    await r.setTimers("o2", [{ name: "far", dueAt: T0 + 10 * SECOND }]);
    await r.scheduler.start();
    // While the round of "first" reads what comes next, another object sets a timer: the read
    // has already been made without it.
    r.onFire(() => {
      r.store.duringRead = {
        after: T0 + SECOND,
        run: async () => {
          await r.setTimers("o3", [{ name: "set-meanwhile", dueAt: T0 + 2 * SECOND }]);
          r.scheduler.notify(T0 + 2 * SECOND);
        },
      };
    });
    await r.advance(SECOND);
    r.onFire(() => undefined);
    // "far" is moved earlier than the floor (its old due time).
    await r.setTimers("o2", [{ name: "far", dueAt: T0 + 3 * SECOND }]);
    r.scheduler.notify(T0 + 3 * SECOND);
    await r.advanceTo(T0 + 10 * SECOND);
    expect(r.fired.map((f) => [f.name, f.at, f.late])).toEqual([
      ["first", T0 + SECOND, false],
      ["set-meanwhile", T0 + 2 * SECOND, false],
      ["far", T0 + 3 * SECOND, false],
    ]);
  });

  test("a timer cancelled at the floor leaves an empty wake-up, then the next row is found", async () => {
    const r = rig();
    await r.setTimers("o1", [{ name: "cancelled", dueAt: T0 + 5 * SECOND }]);
    await r.setTimers("o2", [{ name: "later", dueAt: T0 + 20 * SECOND }]);
    await r.scheduler.start();
    await r.setTimers("o3", [{ name: "single", dueAt: T0 + SECOND }]);
    r.scheduler.notify(T0 + SECOND);
    await r.advance(SECOND);
    const o1 = (await r.store.getObject("o1"))!;
    await r.store.commit([{ ...emptyBatch(o1), timerOps: [{ name: "cancelled", op: "cancel", kind: "schedule" }] }]);
    await r.advanceTo(T0 + 20 * SECOND);
    expect(r.fired.map((f) => [f.name, f.at])).toEqual([
      ["single", T0 + SECOND],
      ["later", T0 + 20 * SECOND],
    ]);
  });
});
