// One governor per database: the lease is taken at start, renewed while the server runs, and
// refused to a second server while its holder lives; a governor that loses it stops governing.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { LeaseHolder, Store } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import type { Driver } from "../../src/substrate/driver.ts";
import type { Observation } from "../../src/core/types.ts";
import { Lease, LeaseHeldError, LEASE_RENEW_MS, LEASE_TTL_MS, type LeaseIdentity } from "../../src/governor/lease.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { flush, VirtualClock } from "../../src/timers/clock.ts";
import { fenced } from "../../src/governor/fence.ts";
import { Retention } from "../../src/governor/retention.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";

const DAY = 24 * 60 * 60 * 1000;

const me = (owner: string, over: Partial<LeaseIdentity> = {}): LeaseIdentity => ({
  owner,
  host: "host-a",
  pid: 100,
  alive: () => true,
  ...over,
});

function setup() {
  const store = new MemoryStore();
  const clock = new VirtualClock(START);
  const lost: (LeaseHolder | null)[] = [];
  const errors: Error[] = [];
  const lease = (id: LeaseIdentity) =>
    new Lease(
      store,
      clock,
      { identity: id },
      (h) => lost.push(h),
      (e) => errors.push(e),
    );
  return { store, clock, lost, errors, lease };
}

describe("the governing lease", () => {
  test("the first server takes it; a second one on another host is refused, naming the holder", async () => {
    const { store, lease } = setup();
    await lease(me("a")).acquire();
    expect((await store.lease())!.owner).toBe("a");
    const second = lease(me("b", { host: "host-b", pid: 200 })).acquire();
    await expect(second).rejects.toThrow(LeaseHeldError);
    await expect(second).rejects.toThrow(/process 100 on host-a \(owner a/);
  });

  test("on the same host, a holder whose process is alive keeps it", async () => {
    const { lease } = setup();
    await lease(me("a")).acquire();
    await expect(lease(me("b", { pid: 200 })).acquire()).rejects.toThrow(LeaseHeldError);
  });

  test("on the same host, a holder whose process is gone (kill -9) is replaced at once", async () => {
    const { store, lease } = setup();
    await lease(me("a")).acquire();
    await lease(me("b", { pid: 200, alive: (pid) => pid !== 100 })).acquire();
    expect((await store.lease())!.owner).toBe("b");
  });

  test("a holder with this very pid is a previous incarnation (a restarted container) and is replaced", async () => {
    const { store, lease } = setup();
    await lease(me("a")).acquire();
    await lease(me("b")).acquire();
    expect((await store.lease())!.owner).toBe("b");
  });

  test("renewal keeps it past its first expiry; a lease no one renews expires", async () => {
    const { store, clock, lease } = setup();
    const first = lease(me("a"));
    await first.acquire();
    await clock.advance(3 * LEASE_TTL_MS);
    expect((await store.lease())!.expiresAt).toBeGreaterThan(clock.now());
    await expect(lease(me("b", { host: "host-b" })).acquire()).rejects.toThrow(LeaseHeldError);

    // A holder elsewhere that stopped renewing: its claim runs out after the TTL.
    await store.claimLease(
      {
        owner: "gone",
        host: "host-c",
        pid: 1,
        acquiredAt: 0,
        renewedAt: clock.now(),
        expiresAt: clock.now() + LEASE_TTL_MS,
      },
      clock.now(),
      "a",
    );
    await first.release();
    await clock.advance(LEASE_TTL_MS + 1);
    await lease(me("b", { host: "host-b" })).acquire();
    expect((await store.lease())!.owner).toBe("b");
  });

  test("a renewal that finds another holder reports the lease lost, once", async () => {
    const { store, clock, lost, lease } = setup();
    const first = lease(me("a"));
    await first.acquire();
    const thief = { owner: "t", host: "h", pid: 1, acquiredAt: 0, renewedAt: 0, expiresAt: clock.now() + LEASE_TTL_MS };
    await store.claimLease(thief, clock.now(), "a");
    await clock.advance(3 * LEASE_RENEW_MS);
    expect(lost.map((h) => h?.owner)).toEqual(["t"]);
    expect(first.isHeld).toBe(false);
  });

  test("renewals that fail for longer than the lease lasts lose it", async () => {
    const { store, clock, lost, errors, lease } = setup();
    await lease(me("a")).acquire();
    store.claimLease = async () => {
      throw new Error("database unavailable");
    };
    await clock.advance(LEASE_TTL_MS - LEASE_RENEW_MS);
    expect(lost).toEqual([]);
    await clock.advance(2 * LEASE_RENEW_MS);
    expect(lost).toEqual([null]);
    expect(errors.length).toBeGreaterThan(0);
  });

  test("a renewal that never answers (a stalled disk) loses it when it runs out, before another server may take it", async () => {
    const { store, clock, lost, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    store.claimLease = () => new Promise<LeaseHolder | null>(() => {});
    await clock.advance(LEASE_TTL_MS - 1);
    expect(lost).toEqual([]);
    await clock.advance(1);
    expect(lost).toEqual([null]);
    store.claimLease = claim;
    await clock.advance(1);
    await lease(me("b", { host: "host-b" })).acquire();
    expect((await store.lease())!.owner).toBe("b");
    await clock.advance(LEASE_TTL_MS);
    expect(lost).toEqual([null]);
  });

  test("two failed renewals in a row are survived: the third comes before the lease runs out", async () => {
    const { store, clock, lost, errors, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    let failures = 2;
    store.claimLease = (c, now, r) => (failures-- > 0 ? Promise.reject(new Error("SQLITE_BUSY")) : claim(c, now, r));
    await clock.advance(LEASE_TTL_MS + LEASE_RENEW_MS);
    expect(errors).toHaveLength(2);
    expect(lost).toEqual([]);
    expect((await store.lease())!.owner).toBe("a");
  });

  test("one renewal that never answers, the others answered: the next is sent beside it and the lease holds", async () => {
    // A remote database's round trip may go unanswered for as long as the lease lasts: waiting
    // for it would leave no time for another renewal.
    const { store, clock, lost, errors, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    let hung = 1;
    store.claimLease = (c, now, r) => (hung-- > 0 ? new Promise<LeaseHolder | null>(() => {}) : claim(c, now, r));
    await clock.advance(3 * LEASE_TTL_MS);
    expect(lost).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(["the lease's renewal did not answer within 4 s; sending another"]);
    expect((await store.lease())!.expiresAt).toBeGreaterThan(clock.now());
  });

  test("one renewal unanswered: the next goes out when it has had its 4 s, and one answering in 3.5 s keeps the lease", async () => {
    const { store, clock, lost, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    const sent: number[] = [];
    store.claimLease = (c, now, r) => {
      sent.push(now - START);
      if (sent.length === 1) return new Promise<LeaseHolder | null>(() => {});
      return new Promise((resolve) => clock.setTimeout(() => resolve(claim(c, now, r)), 3_500));
    };
    await clock.advance(20_000);
    expect(sent.slice(0, 2)).toEqual([LEASE_RENEW_MS, 2 * LEASE_RENEW_MS]);
    expect(lost).toEqual([]);
  });

  test("a renewal that fails after its 4 s: the database's error is reported when it comes", async () => {
    const { store, clock, errors, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    let calls = 0;
    store.claimLease = (c, now, r) =>
      ++calls === 1
        ? new Promise((_, reject) =>
            clock.setTimeout(() => reject(new Error("SQLITE_BUSY: database is locked")), 5_000),
          )
        : claim(c, now, r);
    await clock.advance(10_000);
    expect(errors.map((e) => e.message)).toEqual([
      "the lease's renewal did not answer within 4 s; sending another",
      "SQLITE_BUSY: database is locked",
    ]);
  });

  test("a renewal answering late, after a later one held, does not bring the deadline forward", async () => {
    const { store, clock, lost, lease } = setup();
    await lease(me("a")).acquire();
    const claim = store.claimLease.bind(store);
    let answerFirst!: () => void;
    let calls = 0;
    store.claimLease = (c, now, r) => {
      calls++;
      if (calls === 1) return new Promise((resolve) => (answerFirst = () => resolve(claim(c, now, r))));
      if (calls === 2) return claim(c, now, r);
      return Promise.reject(new Error("database unavailable"));
    };
    // The first renewal (at 4 s) hangs; the second, sent when the first has had its 4 s (at
    // 8 s), holds, to 23 s.
    await clock.advance(2 * LEASE_RENEW_MS);
    expect(calls).toBe(2);
    answerFirst(); // made at 4 s: it would run out at 19 s
    const heldUntil = START + 2 * LEASE_RENEW_MS + LEASE_TTL_MS;
    await clock.advance(heldUntil - 1 - clock.now());
    expect(lost).toEqual([]);
    await clock.advance(1);
    expect(lost).toEqual([null]);
  });

  test("a renewal on its way when the server releases the lease neither reports it lost nor claims it again", async () => {
    for (const outcome of ["answers", "fails"] as const) {
      const { store, clock, lost, errors, lease } = setup();
      const first = lease(me("a"));
      await first.acquire();
      // The next renewal waits for the database until after release() has begun.
      let answer!: () => void;
      const claim = store.claimLease.bind(store);
      store.claimLease = (...args) =>
        new Promise((resolve, reject) => {
          answer = () => (outcome === "answers" ? resolve(claim(...args)) : reject(new Error("database closed")));
        });
      await clock.advance(LEASE_RENEW_MS);
      const released = first.release();
      answer();
      await released;
      expect(lost, outcome).toEqual([]);
      expect(errors, outcome).toEqual([]);
      expect(await store.lease(), outcome).toBeNull();
    }
  });

  test("release gives it up for the next server", async () => {
    const { store, lease } = setup();
    const first = lease(me("a"));
    await first.acquire();
    await first.release();
    expect(await store.lease()).toBeNull();
    await lease(me("b", { host: "host-b" })).acquire();
  });
});

/** A rules directory with a policy whose rule fires at each tick of `cron` (every minute). */
function tickerRules(cron = "* * * * *", rules = mkdtempSync(join(tmpdir(), "vigil-lease-"))): string {
  writeFileSync(
    join(rules, "ticker.json"),
    JSON.stringify({
      name: "ticker",
      version: cron,
      schedules: [{ name: "tick", cron, timezone: "UTC" }],
      rules: [
        {
          name: "tick-wakes",
          conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "tick" }] },
          event: { type: "wake", params: { reason: "every minute" } },
        },
      ],
    }),
  );
  return rules;
}

/** Another server (another host) takes the lease over from "a". */
async function takeOver(store: Store, clock: VirtualClock): Promise<void> {
  const thief = {
    owner: "t",
    host: "h",
    pid: 1,
    acquiredAt: 0,
    renewedAt: 0,
    expiresAt: clock.now() + 10 * LEASE_TTL_MS,
  };
  await store.claimLease(thief, clock.now(), "a");
}

/** `store`, with its read of the pending actions held until `release()` (a slow recovery). */
function slowStore(store: MemoryStore) {
  let reading!: () => void;
  const isReading = new Promise<void>((r) => (reading = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const slow = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "pendingActions")
        return async () => {
          reading();
          await released;
          return target.pendingActions();
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { slow, isReading, release };
}

/**
 * A governor on `store` whose lease another server takes while its recovery reads the pending
 * actions; resolves once its start is done.
 */
async function lostDuringRecovery(store: MemoryStore, clock: VirtualClock, policies: PolicyRegistry, driver: Driver) {
  const { slow, isReading, release } = slowStore(store);
  const lost: (LeaseHolder | null)[] = [];
  const g = new Governor({
    store: slow,
    policies,
    drivers: [driver],
    clock,
    lease: { identity: me("a"), onLost: (h) => lost.push(h) },
  });
  const starting = g.start();
  await isReading;
  await takeOver(store, clock);
  await clock.advance(LEASE_RENEW_MS + 1000);
  expect(lost.map((h) => h?.owner)).toEqual(["t"]);
  release();
  await starting;
  return g;
}

/**
 * A database an earlier server left: it created an object (`put`) and closed. Returns its store,
 * clock and policies (from `rulesDir`) for the next server.
 */
async function earlierServer(rulesDir: string, put: (g: Governor) => Promise<unknown>) {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(rulesDir)).toEqual([]);
  const store = new MemoryStore();
  const first = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock });
  await first.start();
  await put(first);
  await clock.advance(0, () => first.idle());
  await first.close();
  return { clock, policies, store };
}

/** A simulated driver whose compute did not outlive the restart: adoption finds it stopped. */
class FindsStopped extends SimulatedDriver {
  constructor(private readonly at: VirtualClock) {
    super({ clock: at });
  }
  adopt(): Promise<Observation> {
    return Promise.resolve({ status: "stopped", at: this.at.now() });
  }
}

describe("a governor that loses its lease", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test("stops governing at once: no timer fires and no action is sent after it knows", async () => {
    const rules = tickerRules();
    dirs.push(rules);
    const lost: (LeaseHolder | null)[] = [];
    const s = await makeServices({ rulesDir: rules, lease: { identity: me("a"), onLost: (h) => lost.push(h) } });
    const sent: string[] = [];
    s.governor.events.on("action:dispatched", (a) => sent.push(a.id));
    await s.governor.putObject("t1", { policy: "ticker" });
    await s.advance(60_000);
    expect((await s.governor.listDecisions("t1", 100)).length).toBeGreaterThan(1); // created, then ticks
    await takeOver(s.store, s.clock);
    await s.advance(LEASE_RENEW_MS + 1000); // its next renewal finds out
    expect(lost.map((h) => h?.owner)).toEqual(["t"]);
    const known = (await s.governor.listDecisions("t1", 100)).length;
    const dispatched = sent.length;
    await s.advance(10 * 60_000); // ten ticks' time
    expect((await s.governor.listDecisions("t1", 100)).length).toBe(known);
    expect(sent.length).toBe(dispatched);
    expect(await s.governor.notReady()).toBe("the governing lease was lost");
    await s.close();
  });

  test("a crash its driver reports afterwards is not evaluated: nothing is written", async () => {
    const lost: (LeaseHolder | null)[] = [];
    const s = await makeServices({ lease: { identity: me("a"), onLost: (h) => lost.push(h) } });
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    expect((await s.governor.getObject("m1"))!.state).toBe("active");
    await takeOver(s.store, s.clock);
    await s.advance(LEASE_RENEW_MS + 1000);
    expect(lost.map((h) => h?.owner)).toEqual(["t"]);
    const known = (await s.governor.listDecisions("m1", 100)).length;
    s.driver.crash("m1");
    await s.advance(0);
    expect((await s.governor.listDecisions("m1", 100)).length).toBe(known);
    expect((await s.store.getObject("m1"))!.state).toBe("active");
    expect(await s.governor.reconcile()).toBe(0);
    await s.close();
  });

  test("lost while recovery runs: the scheduler is not started afterwards", async () => {
    const rules = tickerRules();
    dirs.push(rules);
    // An earlier server created the object and its schedule.
    const { clock, policies, store } = await earlierServer(rules, (g) => g.putObject("t1", { policy: "ticker" }));
    const g = await lostDuringRecovery(store, clock, policies, new SimulatedDriver({ clock }));
    expect(await g.notReady()).toBe("the governing lease was lost");
    const known = (await store.listDecisions("t1", 1000)).length;
    await clock.advance(10 * 60_000, () => g.idle()); // ten ticks' time
    expect((await store.listDecisions("t1", 1000)).length).toBe(known);
    await g.close();
  });

  test("lost while recovery runs: the adoptions recovery goes on to make are not evaluated", async () => {
    const { clock, policies, store } = await earlierServer(RULES_DIR, (g) =>
      g.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } }),
    );
    const known = (await store.listDecisions("m1", 1000)).length;
    const g = await lostDuringRecovery(store, clock, policies, new FindsStopped(clock));
    await clock.advance(0, () => g.idle());
    expect((await store.listDecisions("m1", 1000)).length).toBe(known);
    expect((await store.getObject("m1"))!.state).toBe("active");
    await g.close();
  });

  test("lost while recovery runs: recovery does not go on to arm an edited schedule", async () => {
    const rules = tickerRules("0 3 * * *");
    dirs.push(rules);
    const { clock, store } = await earlierServer(rules, (g) => g.putObject("t1", { policy: "ticker" }));
    const armed = await store.armedSchedules("ticker");
    const timers = (await store.getObject("t1"))!.timers;
    // The next server starts with the schedule edited.
    tickerRules("30 5 * * *", rules);
    const edited = new PolicyRegistry(() => clock.now());
    expect(edited.loadDirectory(rules)).toEqual([]);
    const g = await lostDuringRecovery(store, clock, edited, new SimulatedDriver({ clock }));
    expect(await store.armedSchedules("ticker")).toBe(armed);
    expect((await store.getObject("t1"))!.timers).toEqual(timers);
    await g.close();
  });
});

describe("a governor that lost its lease writes nothing of what it still had under way", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Services with a lease, and the function that has another server take it over. */
  async function leased(opts: Parameters<typeof makeServices>[0] = {}) {
    const lost: (LeaseHolder | null)[] = [];
    const s = await makeServices({ ...opts, lease: { identity: me("a"), onLost: (h) => lost.push(h) } });
    const loseLease = async () => {
      await takeOver(s.store, s.clock);
      await s.clock.advance(LEASE_RENEW_MS + 1000, flush);
      expect(lost.map((h) => h?.owner)).toEqual(["t"]);
    };
    return { s, loseLease };
  }

  test.each([
    ["fails for good", { startMs: 30_000, failRate: 1 }],
    ["succeeds", { startMs: 30_000 }],
  ])("a start sent before the loss that then %s: no decision, the stored object unmoved", async (_how, config) => {
    const { s, loseLease } = await leased({ retry: { maxAttempts: 1, baseMs: 250, maxMs: 1000 } });
    await s.governor.putObject("m1", {
      policy: "continuous-monitor",
      memory: { monitoring: { enabled: true } },
      substrate: { driver: "simulated", config },
    });
    await s.advance(0);
    expect((await s.store.getObject("m1"))!.state).toBe("waking");
    await loseLease();
    const decisions = (await s.store.listDecisions("m1", 100)).length;
    const before = await s.store.getObject("m1");
    await s.advance(30_000); // the start answers now
    expect((await s.store.listDecisions("m1", 100)).length).toBe(decisions);
    expect(await s.store.getObject("m1")).toEqual(before);
    await s.close();
  });

  test("a timer firing waiting in its object's mailbox at the loss is not evaluated afterwards", async () => {
    const rules = tickerRules();
    dirs.push(rules);
    const { s, loseLease } = await leased({ rulesDir: rules });
    await s.governor.putObject("t1", { policy: "ticker" });
    await s.advance(0);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const busy = s.governor.exclusive("t1", () => held);
    const dueAt = (await s.store.getObject("t1"))!.timers.find((t) => t.name === "tick")!.dueAt;
    await s.clock.advanceTo(dueAt, flush); // the tick fires, and waits behind the slow task
    await loseLease();
    const known = (await s.store.listDecisions("t1", 100)).length;
    release();
    await busy;
    await s.governor.idle();
    expect((await s.store.listDecisions("t1", 100)).length).toBe(known);
    expect((await s.store.getObject("t1"))!.state).toBe("dormant");
    await s.close();
  });

  test("an action whose claim waits in its object's mailbox at the loss is not sent", async () => {
    const { s, loseLease } = await leased();
    const sent: string[] = [];
    s.governor.events.on("action:dispatched", (a) => sent.push(a.kind));
    await s.governor.putObject("w1", { policy: "queue-worker" });
    await s.advance(0);
    let release1!: () => void;
    const held1 = new Promise<void>((r) => (release1 = r));
    let release2!: () => void;
    const held2 = new Promise<void>((r) => (release2 = r));
    const busy1 = s.governor.exclusive("w1", () => held1);
    const fact = s.governor.postFacts("w1", { queue: { depth: 3 } }); // wakes: a start is queued
    const busy2 = s.governor.exclusive("w1", () => held2); // the start's claim waits behind this
    release1();
    await busy1;
    await fact;
    await flush();
    await loseLease();
    release2();
    await busy2;
    await s.governor.idle();
    expect(sent).toEqual([]);
    await s.close();
  });

  test("a retention run under way at the loss deletes nothing more (its store is fenced, as main.ts does), and stops at its first refused write", async () => {
    const { s, loseLease } = await leased();
    for (let i = 0; i < 5; i++) {
      await s.governor.putObject(`r${i}`, { policy: "continuous-monitor" });
      await s.governor.postFacts(`r${i}`, { x: 1 }); // a second decision: one to prune
    }
    await s.advance(0);
    // The run's first read is slow: the lease is lost meanwhile.
    let reading!: () => void;
    const isReading = new Promise<void>((r) => (reading = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = new Proxy(s.store, {
      get(target, prop, receiver) {
        if (prop === "compactableJournal")
          return async (before: number, after: string | null, limit: number) => {
            reading();
            await released;
            return target.compactableJournal(before, after, limit);
          };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const errors: Error[] = [];
    const tasks: string[] = [];
    const retention = new Retention(
      fenced(slow, s.governor.governs),
      s.clock,
      { journalMs: 60_000, decisionsMs: null, decisionsPerObject: 1, idempotencyMs: DAY },
      (e) => errors.push(e),
      (id, task) => {
        tasks.push(id);
        return s.governor.exclusive(id, task);
      },
    );
    const run = retention.runOnce().catch((e: Error) => errors.push(e));
    await isReading;
    await loseLease();
    const known = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => (await s.store.listDecisions(`r${i}`, 100)).length),
    );
    release();
    await run;
    expect(
      await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await s.store.listDecisions(`r${i}`, 100)).length)),
    ).toEqual(known);
    // No write will pass again: the run ends at the first object, with the loss as its error
    // (going on over every object, a million of them, only held the process once it was lost).
    expect(tasks).toEqual(["r0"]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/lease was lost/)]);
    await s.close();
  });
  test.each([
    ["a DELETE", "delete"],
    ["a PUT that rebinds", "rebind"],
  ])("%s that waited in the mailbox at the loss does not stop the object's compute: a 503", async (_name, how) => {
    const { s, loseLease } = await leased();
    await s.governor.putObject("m1", {
      policy: "continuous-monitor",
      memory: { monitoring: { enabled: true } },
      substrate: { driver: "simulated", config: { startMs: 0 } },
    });
    await s.advance(0);
    const released: string[] = [];
    const release = s.driver.release.bind(s.driver);
    s.driver.release = (t, mode) => {
      released.push(`${t.objectId}:${mode}`);
      return release(t, mode);
    };
    let free!: () => void;
    const held = new Promise<void>((r) => (free = r));
    const busy = s.governor.exclusive("m1", () => held);
    const request =
      how === "delete"
        ? s.governor.deleteObject("m1", "stop")
        : s.governor.putObject("m1", {
            policy: "continuous-monitor",
            substrate: { driver: "simulated", config: { startMs: 5 } },
          });
    const outcome = request.then(
      () => "done",
      (e: Error & { kind?: string }) => e.kind ?? e.message,
    );
    await loseLease();
    free();
    await busy;
    expect(await outcome).toBe("unavailable");
    expect(released).toEqual([]);
    expect((await s.driver.observe({ objectId: "m1", config: {} })).status).toBe("running");
    await s.close();
  });

  /** Services on a libsql store whose reads matching `slow` wait until released. */
  async function leasedLibsql(slow: (sql: string) => boolean) {
    const store = new LibsqlStore({ url: ":memory:" });
    const { s, loseLease } = await leased({ store });
    let reading!: () => void;
    const isReading = new Promise<void>((r) => (reading = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const hold = () => {
      const execute = store.client.execute.bind(store.client) as (...a: unknown[]) => unknown;
      (store.client as { execute: unknown }).execute = async (stmt: unknown, ...rest: unknown[]) => {
        if (slow(typeof stmt === "string" ? stmt : (stmt as { sql: string }).sql)) {
          reading();
          await released;
        }
        return execute(stmt, ...rest);
      };
    };
    return { s, loseLease, hold, isReading, release };
  }

  /**
   * Waits until the held read is reached, or fails at once when `op` ends first: the query it
   * waits for no longer runs (its text changed), and the test would otherwise hang to its timeout.
   */
  async function reached(isReading: Promise<void>, op: Promise<unknown>): Promise<void> {
    const ended = op.then(() => {
      throw new Error("the operation ended without making the read the test holds (has its SQL changed?)");
    });
    await Promise.race([isReading, ended]);
  }

  test("a store method that reads first and writes after (a libsql DELETE): the loss during its read stops the write", async () => {
    const { s, loseLease, hold, isReading, release } = await leasedLibsql((sql) =>
      /^select "id" from "objects"/i.test(sql),
    );
    await s.governor.putObject("d1", { policy: "continuous-monitor" });
    await s.advance(0);
    hold();
    const outcome = s.governor.deleteObject("d1", "keep").then(
      (v) => `deleted: ${v}`,
      (e: Error & { kind?: string }) => e.kind ?? e.message,
    );
    await reached(isReading, outcome); // called while governing; now reading whether the row exists
    await loseLease();
    release();
    expect(await outcome).toBe("unavailable");
    expect(await s.store.getObject("d1")).not.toBeNull();
    await s.close();
  });

  test("a retention run pruning an object's decisions on libsql: the loss during its read stops the delete", async () => {
    const { s, loseLease, hold, isReading, release } = await leasedLibsql((sql) =>
      sql.includes("AND id > ? AND id <= ? ORDER BY id LIMIT ?"),
    );
    await s.governor.putObject("r1", { policy: "continuous-monitor" });
    await s.governor.postFacts("r1", { x: 1 });
    await s.governor.postFacts("r1", { x: 2 });
    await s.advance(0);
    const before = (await s.store.listDecisions("r1", 100)).length;
    expect(before).toBeGreaterThan(1);
    hold();
    const retention = new Retention(
      fenced(s.store, s.governor.governs),
      s.clock,
      { journalMs: null, decisionsMs: null, decisionsPerObject: 1, idempotencyMs: DAY },
      () => {},
      (id, task) => s.governor.exclusive(id, task),
    );
    const run = retention.runOnce().catch(() => null);
    await reached(isReading, run);
    await loseLease();
    release();
    await run;
    expect((await s.store.listDecisions("r1", 100)).length).toBe(before);
    await s.close();
  });
  test("a store fenced by two governors: the write of the one that lost its lease is refused, whatever the other says", async () => {
    const store = new LibsqlStore({ url: ":memory:" });
    const s = await makeServices({ store });
    await s.governor.putObject("o1", { policy: "queue-worker" });
    await s.governor.idle();
    let governs = true;
    const lost = fenced(store, () => governs);
    fenced(store, () => true); // another governor's view of the same store
    const deleting = lost.deleteObject("o1"); // passes the check at the call, then reads first
    governs = false; // the lease is lost while it reads
    expect(
      await deleting.then(
        () => "written",
        (e: Error & { kind?: string }) => e.kind,
      ),
    ).toBe("unavailable");
    expect(await store.getObject("o1")).not.toBeNull();
    await s.close();
  });
});
