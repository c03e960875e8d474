// The outbox Dispatcher on its own, on a virtual clock with a fixed random sequence: backoff,
// final failures, supersede, per-object order and cross-object concurrency, forget and close.

import { describe, expect, test } from "vitest";
import { backoffMs } from "../../src/core/backoff.ts";
import { KeyedQueue } from "../../src/core/keyed-queue.ts";
import type { ActionRecord } from "../../src/core/store.ts";
import type { Observation } from "../../src/core/types.ts";
import { Dispatcher, type DispatchHooks, type RetryPolicy } from "../../src/governor/dispatcher.ts";
import { DriverError } from "../../src/substrate/driver.ts";
import { flush, VirtualClock } from "../../src/timers/clock.ts";
import { SECOND, T0, makeAction } from "../helpers/records.ts";

const RETRY: RetryPolicy = { maxAttempts: 4, baseMs: SECOND, maxMs: 60 * SECOND };

/** A repeating sequence of "random" numbers, so jitter is known in advance. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** A driver call the test settles by hand. */
interface Call {
  action: ActionRecord;
  at: number;
  ok(status?: Observation["status"]): void;
  fail(error: Error): void;
}

/**
 * A dispatcher with hooks written here: `send` parks each call until the test settles it,
 * `exclusive` is a real keyed queue (the object's mailbox), and every hook call is logged.
 */
function rig(
  options: {
    retry?: RetryPolicy;
    random?: () => number;
    failedThrows?: number;
    confirmedThrows?: number;
    maxLanes?: number;
  } = {},
) {
  const clock = new VirtualClock(T0);
  const mailbox = new KeyedQueue();
  const calls: Call[] = [];
  const log: string[] = [];
  const failures: { action: ActionRecord; error: string; final: boolean; at: number }[] = [];
  const confirmations: { action: ActionRecord; observation: Observation }[] = [];
  const errors: { message: string; context: string }[] = [];
  const hooks: DispatchHooks = {
    send: (action) =>
      new Promise<Observation>((resolve, reject) => {
        log.push(`send ${action.id}#${action.attempts}`);
        calls.push({
          action,
          at: clock.now(),
          ok: (status = "running") => resolve({ status, at: clock.now() }),
          fail: reject,
        });
      }),
    confirmed: async (action, observation) => {
      if (options.confirmedThrows !== undefined && options.confirmedThrows-- > 0) {
        log.push(`not recorded ${action.id}`);
        throw new Error("the disk is full");
      }
      log.push(`confirmed ${action.id}`);
      confirmations.push({ action, observation });
    },
    failed: async (action, error, final, _detached, requeue) => {
      log.push(`${final ? "failed" : "retrying"} ${action.id}`);
      failures.push({ action, error, final, at: clock.now() });
      if (options.failedThrows !== undefined && options.failedThrows-- > 0) throw new Error("the mailbox is gone");
      requeue();
    },
    exclusive: (objectId, task) => mailbox.run(objectId, task),
    onError: (error, context) => errors.push({ message: error.message, context }),
  };
  const random = options.random ?? sequence(0.25, 0.75);
  const dispatcher = new Dispatcher(clock, hooks, options.retry ?? RETRY, random, options.maxLanes);
  /** The one call in flight for `id`'s latest attempt. */
  const call = (id: string): Call => {
    const found = calls.filter((c) => c.action.id === id).at(-1);
    if (!found) throw new Error(`${id} was never sent`);
    return found;
  };
  const sent = (id: string) => calls.filter((c) => c.action.id === id).length;
  return { clock, mailbox, dispatcher, calls, call, sent, log, failures, confirmations, errors };
}

const action = (id: string, objectId = "obj-1", overrides: Partial<ActionRecord> = {}) =>
  makeAction({ id, objectId, decisionId: `dec-${id}`, ...overrides });

describe("sending and confirming", () => {
  test("a queued action is sent with its attempt counted, and its confirmation recorded", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    expect(r.calls.map((c) => [c.action.id, c.action.attempts, c.at])).toEqual([["a1", 1, T0]]);
    expect(r.dispatcher.backlog).toBe(1);
    r.call("a1").ok();
    await flush();
    expect(r.confirmations).toEqual([
      { action: { ...action("a1"), attempts: 1 }, observation: { status: "running", at: T0 } },
    ]);
    expect(r.dispatcher.backlog).toBe(0);
    expect(r.failures).toEqual([]);
  });

  test("an action whose nextAttemptAt is ahead waits for it on the clock", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "obj-1", { nextAttemptAt: T0 + 5 * SECOND })]);
    await flush();
    expect(r.sent("a1")).toBe(0);
    await r.clock.advance(5 * SECOND - 1);
    expect(r.sent("a1")).toBe(0);
    await r.clock.advance(1);
    expect(r.call("a1").at).toBe(T0 + 5 * SECOND);
  });
});

describe("retries", () => {
  test("a failed attempt is retried after now + backoffMs(attempts), not before", async () => {
    const r = rig({ random: sequence(0.25, 0.75) });
    // The same numbers the dispatcher will draw, for the expected delays.
    const expected = sequence(0.25, 0.75);
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    await r.clock.advance(3 * SECOND); // the driver takes 3 s to fail
    r.call("a1").fail(new Error("connection reset"));
    await flush();

    const firstDelay = backoffMs(1, RETRY, expected);
    const firstAt = T0 + 3 * SECOND + firstDelay;
    expect(r.failures).toEqual([
      {
        action: { ...action("a1"), attempts: 1, nextAttemptAt: firstAt },
        error: "connection reset",
        final: false,
        at: T0 + 3 * SECOND,
      },
    ]);
    expect(r.dispatcher.queued("obj-1")).toEqual(["a1"]);
    expect(r.dispatcher.backlog).toBe(1);
    expect(r.clock.waiting).toBe(1);

    await r.clock.advanceTo(firstAt - 1);
    expect(r.sent("a1")).toBe(1);
    await r.clock.advance(1);
    expect(r.sent("a1")).toBe(2);
    expect(r.call("a1").at).toBe(firstAt);
    expect(r.call("a1").action).toMatchObject({ attempts: 2, nextAttemptAt: firstAt });

    // The second failure doubles the step and draws the next random number.
    r.call("a1").fail(new Error("still down"));
    await flush();
    const secondAt = firstAt + backoffMs(2, RETRY, expected);
    expect(secondAt - firstAt).not.toBe(firstDelay);
    expect(r.failures.at(-1)).toMatchObject({ action: { attempts: 2, nextAttemptAt: secondAt }, final: false });
    await r.clock.advanceTo(secondAt - 1);
    expect(r.sent("a1")).toBe(2);
    await r.clock.advanceTo(secondAt);
    expect(r.call("a1").at).toBe(secondAt);
    r.call("a1").ok();
    await flush();
    expect(r.confirmations.map((c) => c.action.attempts)).toEqual([3]);
    expect(r.dispatcher.backlog).toBe(0);
  });

  test("a retryable DriverError is retried like any error", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").fail(new DriverError("429 too many requests", true));
    await flush();
    expect(r.failures.map((f) => [f.error, f.final])).toEqual([["429 too many requests", false]]);
    await r.clock.advance(RETRY.maxMs);
    expect(r.sent("a1")).toBe(2);
  });

  test("a non-retryable DriverError is final at once", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").fail(new DriverError("machine not found", false));
    await flush();
    expect(r.failures).toEqual([
      { action: { ...action("a1"), attempts: 1 }, error: "machine not found", final: true, at: T0 },
    ]);
    expect(r.dispatcher.backlog).toBe(0);
    expect(r.clock.waiting).toBe(0);
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.sent("a1")).toBe(1);
  });

  test("the attempt that reaches maxAttempts is final", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    for (let i = 1; i <= RETRY.maxAttempts; i++) {
      expect(r.sent("a1")).toBe(i);
      r.call("a1").fail(new Error(`failure ${i}`));
      await flush();
      await r.clock.advance(RETRY.maxMs);
    }
    expect(r.failures.map((f) => [f.action.attempts, f.final])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(r.failures.at(-1)!.error).toBe("failure 4");
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.sent("a1")).toBe(RETRY.maxAttempts);
    expect(r.dispatcher.backlog).toBe(0);
  });
});

describe("an answer that cannot be recorded", () => {
  test("a confirmation is recorded again after a backoff, not sent again; the object's next action waits for it", async () => {
    const r = rig({ confirmedThrows: 1, random: sequence(0.25) });
    const delay = backoffMs(1, RETRY, sequence(0.25));
    r.dispatcher.enqueue([action("a1"), action("a2")]);
    await flush();
    r.call("a1").ok();
    await flush();
    expect(r.errors).toEqual([{ message: "the disk is full", context: "recording an action result" }]);
    await r.clock.advance(delay - 1);
    expect(r.log).toEqual(["send a1#1", "not recorded a1"]);
    await r.clock.advance(1);
    expect(r.log).toEqual(["send a1#1", "not recorded a1", "confirmed a1", "send a2#1"]);
    expect(r.confirmations[0]!.action.attempts).toBe(1);
  });

  test("it is recorded again past maxAttempts, until it is", async () => {
    const r = rig({ confirmedThrows: RETRY.maxAttempts + 2 });
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").ok();
    await flush();
    for (let i = 0; i < RETRY.maxAttempts + 2; i++) await r.clock.advance(RETRY.maxMs);
    expect(r.sent("a1")).toBe(1);
    expect(r.errors).toHaveLength(RETRY.maxAttempts + 2);
    expect(r.log.at(-1)).toBe("confirmed a1");
    expect(r.dispatcher.backlog).toBe(0);
  });

  test("a final failure too: recorded again, not sent again, and the next action waits for it", async () => {
    const r = rig({ failedThrows: 1 });
    r.dispatcher.enqueue([action("a1"), action("a2")]);
    await flush();
    r.call("a1").fail(new DriverError("refused", false));
    await flush();
    expect(r.errors).toEqual([{ message: "the mailbox is gone", context: "recording an action result" }]);
    expect(r.sent("a2")).toBe(0);
    await r.clock.advance(RETRY.maxMs);
    expect(r.log).toEqual(["send a1#1", "failed a1", "failed a1", "send a2#1"]);
    expect(r.failures.map((f) => [f.action.id, f.final])).toEqual([
      ["a1", true],
      ["a1", true],
    ]);
    expect([r.sent("a1"), r.sent("a2")]).toEqual([1, 1]);
  });

  test("superseded while it waits: the newer decision's commit closes its row, and it is recorded no more", async () => {
    const r = rig({ confirmedThrows: 1 });
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").ok();
    await flush();
    expect(r.dispatcher.queued("obj-1")).toEqual(["a1"]);
    r.dispatcher.supersede("obj-1", ["a1"]);
    await r.clock.advance(RETRY.maxMs);
    expect(r.log).toEqual(["send a1#1", "not recorded a1"]);
    expect(r.dispatcher.backlog).toBe(0);
  });
});

describe("supersede", () => {
  test("a queued action that a newer decision replaced is never sent", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1"), action("a2"), action("a3")]);
    await flush();
    expect(r.dispatcher.queued("obj-1")).toEqual(["a2", "a3"]);
    r.dispatcher.supersede("obj-1", ["a2"]);
    expect(r.dispatcher.queued("obj-1")).toEqual(["a3"]);
    r.call("a1").ok();
    await flush();
    expect(r.log).toEqual(["send a1#1", "confirmed a1", "send a3#1"]);
  });

  test("superseding the action in backoff lets the next one go at once", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").fail(new Error("busy"));
    await flush();
    const retryAt = r.failures[0]!.action.nextAttemptAt;
    expect(retryAt).toBeGreaterThan(T0);
    r.dispatcher.enqueue([action("a2")]);
    await flush();
    expect(r.dispatcher.queued("obj-1")).toEqual(["a1", "a2"]);
    expect(r.sent("a2")).toBe(0); // behind a1's backoff

    r.dispatcher.supersede("obj-1", ["a1"]);
    await flush();
    expect(r.call("a2").at).toBe(T0);
    expect(r.clock.waiting).toBe(0); // a1's backoff timer is gone
    r.call("a2").ok();
    await r.clock.advanceTo(retryAt + RETRY.maxMs);
    expect(r.sent("a1")).toBe(1);
    expect(r.log).toEqual(["send a1#1", "retrying a1", "send a2#1", "confirmed a2"]);
  });

  test("superseding an action behind the one in backoff leaves the backoff alone", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1")]);
    await flush();
    r.call("a1").fail(new Error("busy"));
    await flush();
    const retryAt = r.failures[0]!.action.nextAttemptAt;
    r.dispatcher.enqueue([action("a2")]);
    r.dispatcher.supersede("obj-1", ["a2"]);
    await flush();
    expect(r.dispatcher.queued("obj-1")).toEqual(["a1"]);
    expect(r.calls).toHaveLength(1);
    await r.clock.advanceTo(retryAt);
    expect(r.call("a1").at).toBe(retryAt);
    r.call("a1").ok();
    await flush();
    expect(r.sent("a2")).toBe(0);
  });

  test("an evaluation holding the mailbox can still supersede the head before it is claimed", async () => {
    const r = rig();
    let release!: () => void;
    const evaluation = r.mailbox.run("obj-1", () => new Promise<void>((resolve) => (release = resolve)));
    r.dispatcher.enqueue([action("a1"), action("a2")]);
    await flush();
    expect(r.calls).toHaveLength(0); // the claim waits for the mailbox
    r.dispatcher.supersede("obj-1", ["a1"]);
    release();
    await evaluation;
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a2"]);
  });
});

describe("order and concurrency", () => {
  test("at most maxLanes objects are worked on at once; the others start as lanes free, in the order they came", async () => {
    const r = rig({ maxLanes: 2 });
    r.dispatcher.enqueue([action("a1", "o1"), action("a2", "o2"), action("a3", "o3"), action("a4", "o4")]);
    r.dispatcher.enqueue([action("a5", "o5")]);
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "a2"]);
    expect(r.dispatcher.backlog).toBe(5);
    // One waiting for a lane can still be superseded: it is never sent.
    r.dispatcher.supersede("o4", ["a4"]);
    r.call("a1").ok();
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "a2", "a3"]);
    r.call("a3").ok();
    r.call("a2").ok();
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "a2", "a3", "a5"]);
    r.call("a5").ok();
    await flush();
    expect(r.confirmations.map((c) => c.action.id)).toEqual(["a1", "a3", "a2", "a5"]);
    expect(r.dispatcher.backlog).toBe(0);
  });

  test("a lane waiting out a backoff frees its place for another object", async () => {
    const r = rig({ maxLanes: 1 });
    r.dispatcher.enqueue([action("a1", "o1"), action("b1", "o2")]);
    await flush();
    r.call("a1").fail(new Error("busy"));
    await flush();
    // a1 waits for its retry on the clock; b1 is sent meanwhile.
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1"]);
    r.call("b1").ok();
    await r.clock.advance(60 * SECOND);
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1", "a1"]);
  });

  test("one object's actions go one at a time, in order; other objects proceed side by side", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "A"), action("b1", "B"), action("a2", "A"), action("b2", "B")]);
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1"]);
    expect(r.dispatcher.backlog).toBe(4);

    r.call("b1").ok();
    await flush();
    // B moved on while A is still waiting for its driver.
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1", "b2"]);
    r.call("a1").ok();
    await flush();
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1", "b2", "a2"]);
    r.call("a2").ok();
    r.call("b2").ok();
    await flush();
    expect(r.log).toEqual([
      "send a1#1",
      "send b1#1",
      "confirmed b1",
      "send b2#1",
      "confirmed a1",
      "send a2#1",
      "confirmed a2",
      "confirmed b2",
    ]);
    expect(r.dispatcher.backlog).toBe(0);
  });

  test("an object's next action waits out the backoff of the one before it", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "A"), action("a2", "A"), action("b1", "B")]);
    await flush();
    r.call("a1").fail(new Error("busy"));
    await flush();
    const retryAt = r.failures[0]!.action.nextAttemptAt;
    expect(r.sent("a2")).toBe(0);
    expect(r.sent("b1")).toBe(1);
    await r.clock.advanceTo(retryAt);
    expect(r.sent("a1")).toBe(2);
    expect(r.sent("a2")).toBe(0);
    r.call("a1").ok();
    await flush();
    expect(r.call("a2").at).toBe(retryAt);
  });
});

describe("forget and close", () => {
  test("forget drops an object's queued actions and its backoff; the call in flight still reports", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "A"), action("a2", "A"), action("b1", "B")]);
    await flush();
    r.dispatcher.forget("A");
    expect(r.dispatcher.queued("A")).toEqual([]);
    r.call("a1").ok();
    await flush();
    expect(r.log).toEqual(["send a1#1", "send b1#1", "confirmed a1"]);

    // Forgetting an action in backoff clears its timer.
    r.call("b1").fail(new Error("busy"));
    await flush();
    expect(r.clock.waiting).toBe(1);
    r.dispatcher.forget("B");
    expect(r.clock.waiting).toBe(0);
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.sent("b1")).toBe(1);
    expect(r.dispatcher.backlog).toBe(0);
    r.dispatcher.forget("never-seen"); // a no-op
  });

  test("an action in flight when its object is forgotten reports its failure but is not tried again", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "A"), action("a2", "A")]);
    await flush();
    r.dispatcher.forget("A");
    // The object is created again under the same id, and decides anew.
    r.dispatcher.enqueue([action("a3", "A")]);
    r.call("a1").fail(new Error("busy"));
    await flush();
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.failures.map((f) => [f.action.id, f.final])).toEqual([["a1", false]]);
    expect(r.sent("a1")).toBe(1);
    expect(r.sent("a2")).toBe(0);
    // The new object's action goes after the forgotten one's call, and its own retries still happen.
    expect(r.log).toEqual(["send a1#1", "retrying a1", "send a3#1"]);
    r.call("a3").fail(new Error("busy"));
    await flush();
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.sent("a3")).toBe(2);
  });

  test("close stops backoff timers and sends nothing more; the call in flight still reports", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "A"), action("a2", "A"), action("b1", "B")]);
    await flush();
    r.call("b1").fail(new Error("busy"));
    await flush();
    expect(r.clock.waiting).toBe(1);

    r.dispatcher.close();
    expect(r.clock.waiting).toBe(0);
    r.call("a1").ok();
    r.dispatcher.enqueue([action("c1", "C")]);
    await r.clock.advance(10 * RETRY.maxMs);
    expect(r.log).toEqual(["send a1#1", "send b1#1", "retrying b1", "confirmed a1"]);
    expect(r.calls.map((c) => c.action.id)).toEqual(["a1", "b1"]);
  });
});

describe("resync (a doubtful object's actions read again)", () => {
  test("queues what is pending and unknown, drops what is queued and no longer pending, leaves the one in flight", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1"), action("a2"), action("a3")]);
    await flush();
    expect(r.sent("a1")).toBe(1); // in flight; a2 and a3 queued
    // The store has a1 (in flight) and a3 pending; a2 was superseded and a4 queued by a write
    // whose answer was lost.
    r.dispatcher.resync("obj-1", [action("a1"), action("a3"), action("a4")]);
    expect(r.dispatcher.queued("obj-1")).toEqual(["a3", "a4"]);
    r.call("a1").ok();
    await flush();
    r.call("a3").ok();
    await flush();
    r.call("a4").ok();
    await flush();
    expect(r.confirmations.map((c) => c.action.id)).toEqual(["a1", "a3", "a4"]);
    expect(r.sent("a1")).toBe(1);
    expect(r.sent("a2")).toBe(0);
  });

  test("an object whose row is gone (none pending) has its queue dropped", async () => {
    const r = rig();
    r.dispatcher.enqueue([action("a1", "obj-1", { nextAttemptAt: T0 + 5 * SECOND })]);
    await flush();
    r.dispatcher.resync("obj-1", []);
    expect(r.dispatcher.queued("obj-1")).toEqual([]);
    await r.clock.advance(10 * SECOND);
    expect(r.sent("a1")).toBe(0);
    expect(r.dispatcher.backlog).toBe(0);
  });
});
