// A remote database that committed a write and lost its answer (storage/remote.ts's failures,
// as core/errors.ts remoteFailure knows them), on the virtual clock: the timers the write set
// still fire, though the request that set them was answered with a 503 and never sent again.

import { afterEach, expect, test } from "vitest";
import type { ActionRecord, ActionUpdate, CommitBatch } from "../../src/core/store.ts";
import { LEASE_RENEW_MS, LEASE_TTL_MS } from "../../src/governor/lease.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { DriverError } from "../../src/substrate/driver.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const lostAnswer = () => Object.assign(new Error("did not answer within 15 s"), { code: "VIGIL_DB_NO_ANSWER" });

/**
 * Commits, then fails the next `lose` commits as a remote whose answer never came does (and the
 * next `loseActions` action updates that carry a decision); `hold` holds the reread of w2.
 */
class LosingAnswers extends MemoryStore {
  lose = 0;
  loseActions = 0;
  hold: Promise<void> | null = null;
  reading: (() => void) | null = null;
  override async commit(batches: CommitBatch[]): Promise<void> {
    await super.commit(batches);
    if (this.lose > 0 && this.lose--) throw lostAnswer();
  }
  loseConfirms = 0;
  loseDeletes = 0;
  override async deleteObject(id: string): Promise<boolean> {
    const deleted = await super.deleteObject(id);
    if (this.loseDeletes > 0 && this.loseDeletes--) throw lostAnswer();
    return deleted;
  }
  override async updateAction(u: ActionUpdate): Promise<void> {
    await super.updateAction(u);
    if (this.loseActions > 0 && u.decision && this.loseActions--) throw lostAnswer();
    if (this.loseConfirms > 0 && u.status === "confirmed" && this.loseConfirms--) throw lostAnswer();
  }
  /** Reads of objects that fail, as a remote that does not answer. */
  failReads = 0;
  /** Run once, at the first read that fails. */
  onFailedRead: (() => void) | null = null;
  override async getObjects(ids: string[]) {
    if (this.failReads > 0 && this.failReads--) {
      const hook = this.onFailedRead;
      this.onFailedRead = null;
      hook?.();
      throw lostAnswer();
    }
    return super.getObjects(ids);
  }
  override async pendingActions(id?: string): Promise<ActionRecord[]> {
    if (id === "w2" && this.hold) {
      this.reading?.();
      await this.hold;
    }
    return super.pendingActions(id);
  }
}

/** A queue worker w1, created and evaluated, on a store that can lose answers. */
async function queueWorker(): Promise<{ store: LosingAnswers; s: TestServices }> {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  await s.governor.putObject("w1", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 10 } },
  });
  await s.governor.idle();
  return { store, s };
}

test("a timer set by a write whose answer was lost fires in its time", async () => {
  const { store, s } = await queueWorker();
  await s.governor.postFacts("w1", { queue: { depth: 1 } });
  await s.advance(1_000); // active
  expect((await s.governor.getObject("w1"))!.state).toBe("active");
  // Idle: a timer is set (its dwell before dormancy); the commit is applied, its answer lost.
  store.lose = 1;
  await expect(s.governor.postFacts("w1", { queue: { depth: 0 } })).rejects.toThrow(/did not answer/);
  expect(store.lose).toBe(0);
  const [timer] = (await store.getObject("w1"))!.timers;
  expect(timer).toBeDefined();
  // Nothing else happens to the object: the timer fires by itself, in its time.
  await s.advance(timer!.dueAt - s.clock.now() + 1_000);
  const decisions = await s.governor.listDecisions("w1", 50);
  expect(decisions.some((d) => d.trigger.kind === "timer" && d.trigger.name === timer!.name)).toBe(true);
});

test("a wake whose write's answer was lost sends its start when the request comes again", async () => {
  const { store, s } = await queueWorker();
  // The wake and its start action are committed; the answer is lost.
  store.lose = 1;
  await expect(s.governor.postFacts("w1", { queue: { depth: 1 } }, "k-1")).rejects.toThrow(/did not answer/);
  const [start] = await store.pendingActions("w1");
  expect(start?.kind).toBe("start");
  // The client sends the same request again, as the 503 asks: the recorded decision is its
  // answer, and the start its write recorded is sent.
  const again = await s.governor.postFacts("w1", { queue: { depth: 1 } }, "k-1");
  expect(again.decision.outcome).toBe("wake");
  await s.advance(1_000);
  expect((await s.governor.getObject("w1"))!.state).toBe("active");
  expect(await store.pendingActions("w1")).toEqual([]);
});

test("a start in its backoff that a lost write superseded is not sent again, though nothing else comes for the object", async () => {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  const starts: string[] = [];
  const start = s.driver.start.bind(s.driver);
  let failNext = 1;
  s.driver.start = async (t) => {
    starts.push(t.objectId);
    if (failNext-- > 0) throw new DriverError("boom", true);
    return start(t);
  };
  await s.governor.putObject("w1", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await s.governor.idle();
  await s.governor.postFacts("w1", { work: { pending: 1 } }); // the start fails once: a retry in backoff
  await s.governor.idle();
  expect(starts).toHaveLength(1);
  // The dormancy decision supersedes the start in its backoff; the write's answer is lost.
  store.lose = 1;
  await expect(s.governor.postFacts("w1", { work: { pending: 0 } })).rejects.toThrow(/did not answer/);
  // The backoff runs out: the dispatcher's claim reads the object again first.
  await s.advance(60_000);
  expect(starts).toHaveLength(1);
  expect(await store.pendingActions("w1")).toEqual([]);
});

test("a rebind whose answer was lost: the old binding's start in flight is not taken for the object's", async () => {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  const bound = (startMs: number) => ({ policy: "on-demand", substrate: { driver: "simulated", config: { startMs } } });
  await s.governor.putObject("w1", bound(1_000));
  await s.governor.postFacts("w1", { work: { pending: 1 } }); // its start in flight for 1 s
  await s.advance(10);
  const [old] = await store.pendingActions("w1");
  // The rebind's write (the old start superseded, a new one pending) is applied, its answer lost.
  store.lose = 1;
  await expect(s.governor.putObject("w1", bound(30_000))).rejects.toThrow(/may or may not have been recorded/);
  await s.advance(2_000); // the old start answers; the new one (30 s) is still on its way
  expect((await s.governor.getObject("w1"))!.state).toBe("waking");
  const decision = await s.governor.getDecision(old!.decisionId);
  expect(decision!.actions.find((a) => a.id === old!.id)).toMatchObject({ status: "superseded" });
});

test("a wake whose write's answer was lost, and nothing more for the object: the next reconciliation sends its start and tells its decision", async () => {
  const { store, s } = await queueWorker();
  const told: string[] = [];
  s.governor.events.on("decision:recorded", (d) => told.push(`${d.id} ${d.outcome}`));
  store.lose = 1;
  await expect(s.governor.postFacts("w1", { queue: { depth: 1 } })).rejects.toThrow(/did not answer/);
  const [start] = await store.pendingActions("w1");
  expect(start?.kind).toBe("start");
  expect(told).toEqual([]);
  // The census counts what it was told: the commit failed, so the object is still dormant there.
  const census = () => s!.governor.censusRows().find((r) => r.policy === "queue-worker" && r.objects > 0)?.state;
  expect(census()).toBe("dormant");
  // No request, no timer for the object: a reconciliation pass reads it again.
  await s.governor.reconcile();
  expect(told).toEqual([`${start!.decisionId} wake`]);
  expect(census()).toBe("waking");
  await s.advance(1_000);
  expect((await s.governor.getObject("w1"))!.state).toBe("active");
  expect(census()).toBe("active");
  expect(await store.pendingActions("w1")).toEqual([]);
});

test.each(["the next reconciliation", "the DELETE sent again"])(
  "a deletion whose answer was lost is told once, found by %s, and the census counts the object no more",
  async (by) => {
    const { store, s } = await queueWorker();
    const told: string[] = [];
    s.governor.events.on("object:deleted", (id) => told.push(id));
    const counted = () => s.governor.censusRows().reduce((n, r) => n + r.objects, 0);
    expect(counted()).toBe(1);
    store.loseDeletes = 1;
    await expect(s.governor.deleteObject("w1", "keep")).rejects.toThrow(/did not answer/);
    expect(await store.getObject("w1")).toBeNull();
    expect(told).toEqual([]);
    if (by === "the next reconciliation") await s.governor.reconcile();
    // Sent again, it finds nothing to delete: 404 (false), and the deletion is told by the reread.
    else expect(await s.governor.deleteObject("w1", "keep")).toBe(false);
    expect(told).toEqual(["w1"]);
    expect(counted()).toBe(0);
    await s.governor.reconcile();
    expect(told).toEqual(["w1"]);
  },
);

test("a write whose answer was lost and that was not committed: no decision is told at the reread", async () => {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  await s.governor.putObject("w1", { policy: "queue-worker", substrate: { driver: "simulated", config: {} } });
  await s.governor.idle();
  const told: string[] = [];
  s.governor.events.on("decision:recorded", (d) => told.push(d.outcome));
  const commit = store.commit.bind(store);
  store.commit = async () => {
    store.commit = commit;
    throw Object.assign(new Error("did not answer within 15 s"), { code: "VIGIL_DB_NO_ANSWER" });
  };
  await expect(s.governor.postFacts("w1", { queue: { depth: 1 } })).rejects.toThrow(/did not answer/);
  await s.governor.reconcile();
  expect(told).toEqual([]);
  expect((await s.governor.getObject("w1"))!.state).toBe("dormant");
  expect(await store.pendingActions("w1")).toEqual([]);
});

test("an action's final failure whose write's answer was lost: its decision is told at the next reconciliation", async () => {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  s.driver.start = async () => {
    throw new DriverError("no capacity", false); // final at once
  };
  await s.governor.putObject("w1", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await s.governor.idle();
  const told: string[] = [];
  s.governor.events.on("decision:recorded", (d) => told.push(d.id));
  store.loseActions = 1;
  await s.governor.postFacts("w1", { work: { pending: 1 } });
  await s.governor.idle();
  expect(store.loseActions).toBe(0);
  const failure = (await store.getObject("w1"))!.lastDecisionId!;
  expect(told).not.toContain(failure);
  await s.governor.reconcile();
  expect(told.at(-1)).toBe(failure);
});

test("the lease lost while a pass rereads a doubtful object: the pass observes no object after", async () => {
  const store = new LosingAnswers();
  const lost: unknown[] = [];
  s = await makeServices({
    store,
    lease: { identity: { owner: "a", host: "host-a", pid: 100, alive: () => true }, onLost: (h) => lost.push(h) },
  });
  const worker = { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 10 } } };
  await s.governor.putObject("w1", worker);
  await s.governor.postFacts("w1", { queue: { depth: 1 } });
  await s.advance(1_000);
  await s.governor.putObject("w2", worker);
  await s.governor.idle();
  store.lose = 1;
  await expect(s.governor.postFacts("w2", { queue: { depth: 0, x: 1 } })).rejects.toThrow(/did not answer/);
  let observed = 0;
  const observe = s.driver.observe.bind(s.driver);
  s.driver.observe = (t) => {
    observed++;
    return observe(t);
  };
  let release!: () => void;
  store.hold = new Promise((r) => (release = r));
  const reading = new Promise<void>((r) => (store.reading = r));
  const pass = s.governor.reconcile();
  await reading;
  const thief = { owner: "t", host: "h", pid: 1, acquiredAt: 0, renewedAt: 0, expiresAt: s.clock.now() + LEASE_TTL_MS };
  await store.claimLease(thief, s.clock.now(), "a");
  await s.clock.advance(LEASE_RENEW_MS + 1_000);
  expect(lost).toHaveLength(1);
  release();
  await pass;
  expect(observed).toBe(0);
});

/** What the table keeps of actions lost writes closed (nothing once their records came). */
const closedKept = (services: TestServices) =>
  (services.governor as unknown as { table: { closed: Map<string, unknown> } }).table.closed.size;

/** An on-demand worker w1 whose starts fail for good, and what is told of its actions and decisions. */
async function failingWorker(): Promise<{ store: LosingAnswers; s: TestServices; told: string[] }> {
  const store = new LosingAnswers();
  s = await makeServices({ store });
  s.driver.start = async () => {
    throw new DriverError("no capacity", false);
  };
  await s.governor.putObject("w1", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await s.governor.idle();
  const told: string[] = [];
  s.governor.events.on("action:superseded", (a) => told.push(`superseded ${a.id}`));
  s.governor.events.on("action:failed", (a, error) => told.push(`failed ${a.id} ${error}`));
  s.governor.events.on("decision:recorded", (d) => told.push(`decision ${d.trigger.kind} ${d.outcome}`));
  return { store, s, told };
}

test.each([
  ["the rereads failing at first", 2],
  ["the first reread succeeding", 0],
] as const)(
  "a final failure stored with its answer lost, %s: the action stays failed, told once, nothing kept",
  async (_, failReads) => {
    const { store, s, told } = await failingWorker();
    store.loseActions = 1; // the failure and its decision are stored; the answer is lost
    store.failReads = failReads; // the next reads of the object fail
    await s.governor.postFacts("w1", { work: { pending: 1 } });
    await s.advance(10 * 60_000);
    const wake = (await s.governor.listDecisions("w1", 50)).find((d) => d.outcome === "wake")!;
    expect(wake.actions.map((a) => a.status)).toEqual(["failed"]);
    const start = wake.actions[0]!.id;
    // The wake; then, at the reread, the failure and its decision, each told once, in the order
    // the lost write would have told them.
    expect(told).toEqual(["decision facts wake", `failed ${start} no capacity`, "decision substrate none"]);
    expect(closedKept(s)).toBe(0);
  },
);

test.each([
  ["the rereads failing at first", 2],
  ["the first reread succeeding", 0],
] as const)(
  "a confirmation stored with its answer lost, %s: the action stays confirmed, told once, nothing kept",
  async (_, failReads) => {
    const { store, s } = await queueWorker();
    const told: string[] = [];
    s.governor.events.on("action:superseded", (a) => told.push(`superseded ${a.id}`));
    s.governor.events.on("action:confirmed", (a, observation) => told.push(`confirmed ${a.id} ${observation.status}`));
    store.loseConfirms = 1; // the start's confirmation (and the object's active state) is stored; the answer is lost
    store.failReads = failReads;
    await s.governor.postFacts("w1", { queue: { depth: 1 } });
    await s.advance(10 * 60_000);
    expect(store.loseConfirms).toBe(0);
    const wake = (await s.governor.listDecisions("w1", 50)).find((d) => d.outcome === "wake")!;
    const start = wake.actions[0]!.id;
    expect(wake.actions.map((a) => a.status)).toEqual(["confirmed"]);
    expect((await s.governor.getObject("w1"))!.state).toBe("active");
    expect(told).toEqual([`confirmed ${start} running`]);
    expect(closedKept(s)).toBe(0);
  },
);

test.each(["confirmation", "final failure"] as const)(
  "a %s stored with its answer lost, read again by another task between the dispatcher's claim and its record: told once, kept",
  async (kind) => {
    const store = new LosingAnswers();
    s = await makeServices({ store });
    if (kind === "final failure")
      s.driver.start = async () => {
        throw new DriverError("no capacity", false);
      };
    const policy = kind === "confirmation" ? "queue-worker" : "on-demand";
    await s.governor.putObject("w1", { policy, substrate: { driver: "simulated", config: { startMs: 10 } } });
    await s.governor.idle();
    const told: string[] = [];
    s.governor.events.on("action:superseded", (a) => told.push(`superseded ${a.id}`));
    s.governor.events.on("action:confirmed", (a) => told.push(`confirmed ${a.id}`));
    s.governor.events.on("action:failed", (a) => told.push(`failed ${a.id}`));
    if (kind === "confirmation") store.loseConfirms = 1;
    else store.loseActions = 1;
    // The reread in the dispatcher's claim fails (the batch read, then alone); meanwhile a
    // client's request comes, and waits in the mailbox ahead of the recording of the answer.
    store.failReads = 2;
    let request: Promise<unknown> | null = null;
    store.onFailedRead = () => {
      request = s!.governor.postFacts("w1", { note: 1 }).catch((e: unknown) => e);
    };
    await s.governor.postFacts("w1", kind === "confirmation" ? { queue: { depth: 1 } } : { work: { pending: 1 } });
    await s.advance(10 * 60_000);
    expect(request).not.toBeNull();
    await request;
    const wake = (await s.governor.listDecisions("w1", 50)).reverse().find((d) => d.outcome === "wake")!;
    const start = wake.actions[0]!.id;
    const status = kind === "confirmation" ? "confirmed" : "failed";
    expect(wake.actions.map((a) => a.status)).toEqual([status]);
    // (The request may start and fail an action of its own: only this one's story counts here.)
    expect(told.filter((t) => t.endsWith(start))).toEqual([`${status} ${start}`]);
    expect(closedKept(s)).toBe(0);
  },
);

test("a start's retry closed superseded (its object moved on) by a write whose answer was lost: not sent again, told superseded once", async () => {
  class LosingSuperseded extends LosingAnswers {
    loseSuperseded = 0;
    override async updateAction(u: ActionUpdate): Promise<void> {
      await super.updateAction(u);
      if (this.loseSuperseded > 0 && u.status === "superseded" && this.loseSuperseded--) throw lostAnswer();
    }
  }
  const store = new LosingSuperseded();
  s = await makeServices({ store });
  const starts: { resolve: (o: unknown) => void; reject: (e: Error) => void }[] = [];
  s.driver.start = () => new Promise((resolve, reject) => starts.push({ resolve: resolve as never, reject }));
  await s.governor.putObject("w1", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await s.governor.idle();
  const told: string[] = [];
  s.governor.events.on("action:superseded", (a) => told.push(`superseded ${a.id}`));
  s.governor.events.on("action:confirmed", (a) => told.push(`confirmed ${a.id}`));
  await s.governor.postFacts("w1", { work: { pending: 1 } }); // a start, with the driver
  await s.advance(10);
  const [a] = await store.pendingActions("w1");
  await s.governor.postFacts("w1", { work: { pending: 0 } }); // the object moves on
  await s.advance(10);
  expect((await s.governor.getObject("w1"))!.state).not.toBe("waking");
  // The start fails retryably: it no longer fits its object, so it is closed superseded; that
  // write is applied and its answer lost.
  store.loseSuperseded = 1;
  starts[0]!.reject(new DriverError("busy", true));
  await s.advance(60_000);
  expect(store.loseSuperseded).toBe(0);
  expect(starts).toHaveLength(1);
  const status = (await s.governor.getDecision(a!.decisionId))!.actions.find((x) => x.id === a!.id)!.status;
  // (The object's own later actions are confirmed: only this start's story counts here.)
  expect({ status, told: told.filter((t) => t.endsWith(a!.id)) }).toEqual({
    status: "superseded",
    told: [`superseded ${a!.id}`],
  });
});
