// GroupCommitter on its own over a real MemoryStore: arrivals that come together share one
// transaction, a poisoned batch fails alone, a caller hears back only once its writes are in.

import { describe, expect, test } from "vitest";
import type { CommitBatch } from "../../src/core/store.ts";
import { GroupCommitter } from "../../src/governor/group-commit.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush } from "../../src/timers/clock.ts";
import { arrivalBatch, makeObject } from "../helpers/records.ts";

/**
 * The real MemoryStore with two faults it can be told to inject: a commit that holds any
 * poisoned object throws before writing anything, and with `hold` set each commit waits for
 * `release()` before it writes. It records the object ids of every commit it was asked for.
 */
class FaultyStore extends MemoryStore {
  readonly calls: string[][] = [];
  readonly poisoned = new Set<string>();
  hold = false;
  private readonly held: (() => void)[] = [];

  override async commit(batches: CommitBatch[]): Promise<void> {
    const ids = batches.map((b) => b.object.id);
    this.calls.push(ids);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    const bad = ids.find((id) => this.poisoned.has(id));
    if (bad !== undefined) throw new Error(`poisoned batch ${bad}`);
    await super.commit(batches);
  }

  /** Commits waiting for `release()`. */
  get waiting(): number {
    return this.held.length;
  }

  /** Lets the oldest held commit go on. */
  release(): void {
    const next = this.held.shift();
    if (!next) throw new Error("no commit is waiting to be released");
    next();
  }
}

/** One arrival of object `id`: the object, decision `dec-<id>` and one pending start. */
const arrival = (id: string): CommitBatch =>
  arrivalBatch(makeObject({ id }), `dec-${id}`, {
    actions: [{ id: `act-${id}`, kind: "start" }],
  });

/** Tracks whether a promise has settled, and how. */
function track(p: Promise<void>): { state: "pending" | "resolved" | "rejected"; error: unknown } {
  const t = { state: "pending" as "pending" | "resolved" | "rejected", error: undefined as unknown };
  p.then(
    () => (t.state = "resolved"),
    (e: unknown) => {
      t.state = "rejected";
      t.error = e;
    },
  );
  return t;
}

async function stored(store: MemoryStore): Promise<string[]> {
  return (await store.listObjects({ limit: 10_000 })).map((o) => o.id);
}

describe("grouping", () => {
  test("arrivals submitted together commit in one transaction, everything of each in it", async () => {
    const store = new FaultyStore();
    const committer = new GroupCommitter(store);
    const ids = ["a", "b", "c", "d", "e"];
    await Promise.all(ids.map((id) => committer.commit(arrival(id))));
    expect(committer.stats).toEqual({ transactions: 1, batches: 5 });
    expect(store.calls).toEqual([ids]);
    expect(await stored(store)).toEqual(ids);
    for (const id of ids) {
      expect((await store.getDecision(`dec-${id}`))?.actions).toEqual([
        { id: `act-${id}`, kind: "start", status: "pending" },
      ]);
    }
    expect((await store.pendingActions()).map((a) => a.id)).toEqual(ids.map((id) => `act-${id}`));
  });

  test("with one transaction in flight, arrivals that come meanwhile wait for it and then commit together", async () => {
    const store = new FaultyStore();
    store.hold = true;
    const committer = new GroupCommitter(store, 512, 1);
    const first = track(committer.commit(arrival("a")));
    await flush();
    expect(store.calls).toEqual([["a"]]);
    const later = [track(committer.commit(arrival("b"))), track(committer.commit(arrival("c")))];
    await flush();
    // Nothing more is sent while the first transaction is open.
    expect(store.calls).toEqual([["a"]]);
    store.release();
    await flush();
    expect(first.state).toBe("resolved");
    expect(store.calls).toEqual([["a"], ["b", "c"]]);
    expect(later.map((t) => t.state)).toEqual(["pending", "pending"]);
    store.release();
    await committer.idle();
    expect(later.map((t) => t.state)).toEqual(["resolved", "resolved"]);
    expect(committer.stats).toEqual({ transactions: 2, batches: 3 });
    expect(await stored(store)).toEqual(["a", "b", "c"]);
  });

  test("with two in flight, the arrivals that come while one commits are sent as the next group at once", async () => {
    const store = new FaultyStore();
    store.hold = true;
    const committer = new GroupCommitter(store, 512, 2);
    const first = track(committer.commit(arrival("a")));
    await flush();
    const second = [track(committer.commit(arrival("b"))), track(committer.commit(arrival("c")))];
    await flush();
    expect(store.calls).toEqual([["a"], ["b", "c"]]);
    // A third group waits until one of the two is done.
    const third = track(committer.commit(arrival("d")));
    await flush();
    expect(store.calls).toEqual([["a"], ["b", "c"]]);
    store.release();
    await flush();
    expect(first.state).toBe("resolved");
    expect(second.map((t) => t.state)).toEqual(["pending", "pending"]);
    expect(store.calls).toEqual([["a"], ["b", "c"], ["d"]]);
    store.release();
    store.release();
    await committer.idle();
    expect([...second, third].map((t) => t.state)).toEqual(["resolved", "resolved", "resolved"]);
    expect(await stored(store)).toEqual(["a", "b", "c", "d"]);
  });

  test("a throwing onCommitted neither fails nor re-sends a group that is durable", async () => {
    const store = new FaultyStore();
    const committer = new GroupCommitter(store);
    committer.onCommitted = () => {
      throw new Error("counter broke");
    };
    const ids = ["a", "b", "c"];
    await Promise.all(ids.map((id) => committer.commit(arrival(id))));
    expect(store.calls).toEqual([ids]);
    expect(committer.stats).toEqual({ transactions: 1, batches: 3 });
    expect(await stored(store)).toEqual(ids);
  });

  test("a group is at most maxBatches arrivals", async () => {
    const store = new FaultyStore();
    const committer = new GroupCommitter(store, 2);
    await Promise.all(["a", "b", "c", "d", "e"].map((id) => committer.commit(arrival(id))));
    expect(store.calls).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(committer.stats).toEqual({ transactions: 3, batches: 5 });
    expect(await stored(store)).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("idle() settles after a turn of exactly eagerBatches arrivals, sent at once and committed before the turn ends", async () => {
    // The first arrival schedules a send for the end of the turn; the fourth fills an eager
    // group, which goes at once and commits before that scheduled send finds an empty queue.
    const store = new FaultyStore();
    const committer = new GroupCommitter(store, 512, 2, 4);
    const commits = ["a", "b", "c", "d"].map((id) => committer.commit(arrival(id)));
    const idle = track(committer.idle());
    await Promise.all(commits);
    await flush();
    expect(store.calls).toEqual([["a", "b", "c", "d"]]);
    expect(committer.busy).toBe(false);
    expect(idle.state).toBe("resolved");
  });
});

describe("a failing batch", () => {
  test("a poisoned batch fails alone; the others of its group still commit", async () => {
    const store = new FaultyStore();
    store.poisoned.add("b");
    const committer = new GroupCommitter(store);
    const results = await Promise.allSettled(["a", "b", "c"].map((id) => committer.commit(arrival(id))));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error("poisoned batch b"));
    // The group was tried whole, then one batch at a time.
    expect(store.calls).toEqual([["a", "b", "c"], ["a"], ["b"], ["c"]]);
    expect(committer.stats).toEqual({ transactions: 2, batches: 2 });
    expect(await stored(store)).toEqual(["a", "c"]);
    expect(await store.getDecision("dec-b")).toBeNull();
    expect((await store.pendingActions()).map((a) => a.id)).toEqual(["act-a", "act-c"]);
  });

  test("a batch that conflicts with an earlier one of its group fails alone (no injected fault)", async () => {
    const store = new FaultyStore();
    const committer = new GroupCommitter(store);
    // Two arrivals of different objects that claim the same decision id: the store refuses the
    // group as a whole, then takes the first and refuses the second.
    const one = arrivalBatch(makeObject({ id: "one" }), "dec-same");
    const two = arrivalBatch(makeObject({ id: "two" }), "dec-same");
    const results = await Promise.allSettled([committer.commit(one), committer.commit(two)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain("decision dec-same exists");
    expect(store.calls).toEqual([["one", "two"], ["one"], ["two"]]);
    expect(await stored(store)).toEqual(["one"]);
    expect((await store.getDecision("dec-same"))?.objectId).toBe("one");
  });

  test("a group a remote database could not be reached for fails whole, not one batch at a time", async () => {
    // Each alone would wait as long again, and the group may have been committed with its answer
    // lost: then each alone would fail on a row it wrote (a 500 where a 503 is due).
    const store = new FaultyStore();
    // As the store's bounded fetch throws it (storage/remote.ts).
    const lost = Object.assign(new Error("fetch failed", { cause: { code: "ECONNRESET" } }), {
      code: "VIGIL_DB_UNREACHABLE",
    });
    store.commit = async (batches) => {
      store.calls.push(batches.map((b) => b.object.id));
      throw lost;
    };
    const committer = new GroupCommitter(store);
    const results = await Promise.allSettled(["a", "b", "c"].map((id) => committer.commit(arrival(id))));
    expect(results.map((r) => (r as PromiseRejectedResult).reason)).toEqual([lost, lost, lost]);
    expect(store.calls).toEqual([["a", "b", "c"]]);
  });

  test("a batch alone in its group is not tried twice; the committer goes on afterwards", async () => {
    const store = new FaultyStore();
    store.poisoned.add("bad");
    const committer = new GroupCommitter(store);
    await expect(committer.commit(arrival("bad"))).rejects.toThrow("poisoned batch bad");
    expect(store.calls).toEqual([["bad"]]);
    expect(committer.stats).toEqual({ transactions: 0, batches: 0 });
    expect(committer.busy).toBe(false);
    await committer.commit(arrival("good"));
    expect(await stored(store)).toEqual(["good"]);
    expect(committer.stats).toEqual({ transactions: 1, batches: 1 });
  });
});

describe("when a caller hears back", () => {
  test("a caller's promise resolves only after its own writes are in the store", async () => {
    const store = new FaultyStore();
    store.hold = true;
    const committer = new GroupCommitter(store, 1, 1);
    const a = track(committer.commit(arrival("a")));
    const b = track(committer.commit(arrival("b")));
    await flush();
    expect(store.waiting).toBe(1);
    expect([a.state, b.state]).toEqual(["pending", "pending"]);
    expect(await stored(store)).toEqual([]);

    store.release();
    await flush();
    expect(a.state).toBe("resolved");
    expect(b.state).toBe("pending");
    expect(await stored(store)).toEqual(["a"]);

    store.release();
    await flush();
    expect(b.state).toBe("resolved");
    expect(await stored(store)).toEqual(["a", "b"]);
  });

  test("in a retried group each survivor resolves after its own single commit, not after the failed group", async () => {
    const store = new FaultyStore();
    store.poisoned.add("b");
    const committer = new GroupCommitter(store);
    const seen: Record<string, string[]> = {};
    const watch = (id: string) =>
      committer.commit(arrival(id)).then(async () => {
        seen[id] = await stored(store);
      });
    await Promise.allSettled(["a", "b", "c"].map(watch));
    expect(seen).toEqual({ a: ["a"], c: ["a", "c"] });
  });
});

describe("idle and busy", () => {
  test("busy from the first commit until the queue drains; idle waits for arrivals queued meanwhile", async () => {
    const store = new FaultyStore();
    const committer = new GroupCommitter(store);
    expect(committer.busy).toBe(false);
    await committer.idle(); // nothing to wait for

    store.hold = true;
    const a = track(committer.commit(arrival("a")));
    expect(committer.busy).toBe(true);
    let idle = false;
    void committer.idle().then(() => (idle = true));
    await flush();
    const b = track(committer.commit(arrival("b")));
    store.release();
    await flush();
    expect(a.state).toBe("resolved");
    // b arrived while a was being written: idle() is still waiting for it.
    expect(idle).toBe(false);
    expect(committer.busy).toBe(true);
    store.release();
    await committer.idle();
    expect(idle).toBe(true);
    expect(b.state).toBe("resolved");
    expect(committer.busy).toBe(false);
    expect(await stored(store)).toEqual(["a", "b"]);
  });

  test("a failed commit does not leave the committer busy", async () => {
    const store = new FaultyStore();
    store.poisoned.add("a");
    const committer = new GroupCommitter(store);
    const a = track(committer.commit(arrival("a")));
    const b = track(committer.commit(arrival("b")));
    await committer.idle();
    expect(committer.busy).toBe(false);
    expect([a.state, b.state]).toEqual(["rejected", "resolved"]);
  });
});
