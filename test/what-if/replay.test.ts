// Replay: a candidate policy over an object's recorded history, decisions side by side.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { collectHistory, historyOf, readHistory } from "../../src/what-if/history.ts";
import { replay } from "../../src/what-if/replay.ts";
import { Retention } from "../../src/governor/retention.ts";
import type { Store } from "../../src/core/store.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";
import type { Clock } from "../../src/core/clock.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const queueWorker = () => JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as Record<string, any>;

/** A day in the life of a worker: a backlog, a job, idling, its own wake timer. */
async function history(services: TestServices) {
  const g = services.governor;
  await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
  await services.advance(60_000);
  await g.postFacts("w", { queue: { depth: 2 } });
  await services.advance(30_000);
  await g.postFacts("w", { jobs: { inflight: 1 } });
  await services.advance(5 * 60_000);
  await g.postFacts("w", { queue: { depth: 0 }, jobs: { inflight: 0 } });
  await services.advance(7 * 3_600_000);
  await g.postFacts("w", { queue: { depth: 1 } });
  await services.advance(60_000);
}

describe("replay", () => {
  test("the policy that was in force replays with no difference", async () => {
    s = await makeServices();
    await history(s);
    const report = await s.whatIf.replay("w", queueWorker());
    expect(report.actualDecisions).toBeGreaterThanOrEqual(7);
    expect(report.candidateDecisions).toBe(report.actualDecisions);
    expect(report.differences).toEqual([]);
    expect(report.from).toBe("2026-03-01T00:00:00.000Z");
  });

  test("a changed policy shows every decision that would differ, both outcomes side by side", async () => {
    s = await makeServices();
    await history(s);
    const candidate = queueWorker();
    candidate.version = "candidate";
    candidate.rules[0].conditions.all[0].value = 1; // wake only for a backlog of 2 or more
    const report = await s.whatIf.replay("w", candidate);
    expect(report.candidate).toMatchObject({ name: "queue-worker", version: "candidate" });
    const last = report.differences.find((d) => d.key === "facts#4");
    // The worker woke on its own timer at 06:07:30 and is active: a backlog of 1 still
    // fires backlog-wake today, and would fire nothing under the candidate.
    expect(last).toEqual({
      key: "facts#4",
      at: "2026-03-01T07:06:30.000Z",
      trigger: { kind: "facts" },
      actual: { decisionId: expect.any(String), outcome: "wake", toState: "active", fired: ["backlog-wake"] },
      candidate: { outcome: "none", toState: "active", fired: [] },
    });
    // Nothing was stored: the object's own history is as it was.
    expect((await s.whatIf.replay("w", queueWorker())).differences).toEqual([]);
  });

  test("after retention compacted the journal, replay starts from the snapshot", async () => {
    s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
    await history(s);
    const retention = new Retention(s.store, s.clock, {
      journalMs: 2 * 3_600_000,
      decisionsMs: null,
      decisionsPerObject: null,
      idempotencyMs: null,
    });
    expect((await retention.runOnce()).compacted).toBe(1);
    const journal = await s.store.journal("w", -1, 100);
    expect(journal[0]).toMatchObject({
      seq: 3,
      kind: "snapshot",
      patch: { queue: { depth: 0 }, jobs: { inflight: 0 } },
    });
    expect(journal.slice(1).map((j) => j.seq)).toEqual([4]);
    const report = await s.whatIf.replay("w", queueWorker());
    expect(report.from).toBe("2026-03-01T00:06:30.000Z");
    expect(report.differences).toEqual([]);
  });

  test("a snapshot of the creation memory alone (no fact within the journal window) replays from the creation", async () => {
    s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }) });
    // Created with a backlog: the creation wakes it; it idles into dormancy on its own timers.
    await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 2 } } });
    await s.advance(2 * 3_600_000);
    const retention = new Retention(s.store, s.clock, {
      journalMs: 3_600_000,
      decisionsMs: null,
      decisionsPerObject: null,
      idempotencyMs: null,
    });
    expect((await retention.runOnce()).compacted).toBe(1);
    expect(await s.store.journal("w", -1, 100)).toMatchObject([{ seq: 0, kind: "snapshot" }]);
    const report = await s.whatIf.replay("w", queueWorker());
    expect(report.from).toBe("2026-03-01T00:00:00.000Z");
    expect(report.actualDecisions).toBe(report.candidateDecisions);
    expect(report.candidateDecisions).toBeGreaterThan(0);
    expect(report.differences).toEqual([]);
  });

  test("an invalid candidate is a validation error naming $.policy paths", async () => {
    s = await makeServices();
    await s.governor.putObject("w", { policy: "queue-worker" });
    const bad = queueWorker();
    bad.rules[0].event.type = "explode";
    await expect(s.whatIf.replay("w", bad)).rejects.toMatchObject({
      kind: "invalid",
      problems: [{ path: "$.policy.rules[0].event.type" }],
    });
  });
});

describe("replay against a real server's history", () => {
  test("timers that fired a few milliseconds late still line up", async () => {
    s = await makeServices();
    await s.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(0);
    await s.governor.postFacts("m", { monitoring: { enabled: false } });
    await s.advance(10 * 60_000);
    const history = await collectHistory(readHistory(s.store, "m"));
    expect(history.decisions.filter((d) => d.trigger.kind === "timer").length).toBeGreaterThan(3);
    // A real server fires each timer a little after it is due.
    const real = {
      ...history,
      decisions: history.decisions.map((d, i) => (d.trigger.kind === "timer" ? { ...d, at: d.at + 3 + (i % 5) } : d)),
    };
    const object = (await s.governor.getObject("m"))!;
    const monitor = JSON.parse(readFileSync(join(RULES_DIR, "continuous-monitor.json"), "utf8"));
    expect((await replay(object, historyOf(real), monitor)).differences).toEqual([]);
    // Beyond the tolerance they are different firings.
    const off = {
      ...history,
      decisions: history.decisions.map((d) => (d.trigger.kind === "timer" ? { ...d, at: d.at + 5000 } : d)),
    };
    expect((await replay(object, historyOf(off), monitor)).differences.length).toBeGreaterThan(0);
  });
});

describe("replay of a timer set from its own firing", () => {
  /** Two hours of a worker held by its rolling one-minute hold, recorded on a clock whose timers fire `lagMs` late. */
  async function rolling(lagMs: number) {
    const clock = new VirtualClock(START);
    const lagging: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(fn, ms + lagMs),
      clearTimeout: (h) => clock.clearTimeout(h),
    };
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const store = new LibsqlStore({ url: ":memory:" });
    await store.migrate();
    const g = new Governor({
      store,
      policies,
      drivers: [new SimulatedDriver({ clock: lagging })],
      clock: lagging,
      random: () => 0.5,
    });
    await g.start();
    await g.putObject("w", { policy: "queue-worker", memory: {} });
    await g.postFacts("w", { queue: { depth: 1 }, jobs: { inflight: 1 } });
    await clock.advance(2 * 3_600_000, () => g.idle());
    const object = (await g.getObject("w"))!;
    const history = await collectHistory(readHistory(store, "w"));
    await g.close();
    await store.close();
    return { object, history };
  }

  test("lines up although the recorded firings drift later each time, past the one-second tolerance", async () => {
    const { object, history } = await rolling(20);
    const holds = history.decisions.filter((d) => d.trigger.kind === "timer" && d.trigger.name === "hold");
    expect(holds.length).toBeGreaterThan(100);
    // Two hours of 20 ms late firings: the last one is seconds behind its schedule.
    expect((await replay(object, historyOf(history), queueWorker())).differences).toEqual([]);
  });

  test("a candidate that moves the timer by more than real lateness does still differ", async () => {
    const { object, history } = await rolling(20);
    const candidate = queueWorker();
    const text = JSON.stringify(candidate).replaceAll('"for":"PT1M"', '"for":"PT61S"');
    expect(text).not.toBe(JSON.stringify(candidate));
    expect((await replay(object, historyOf(history), JSON.parse(text))).differences.length).toBeGreaterThan(0);
  });
});

describe("replay across downtime", () => {
  test("timers that fired late after a restart are replayed late too: no difference", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-replay-"));
    try {
      const url = `file:${join(dir, "v.db")}`;
      const start = Date.parse("2026-03-01T00:00:00Z");
      const s1 = await makeServices({ store: new LibsqlStore({ url }), start });
      await s1.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
      await s1.advance(0);
      await s1.governor.postFacts("m", { monitoring: { enabled: false } });
      await s1.advance(90_000); // asleep since 00:01, its wake timer due at 00:03
      await s1.close();
      // Down from 00:01:30 to 00:05:20: the wake and three sweeps fall due meanwhile.
      s = await makeServices({ store: new LibsqlStore({ url }), start: start + 320_000 });
      await s.advance(5 * 60_000);
      const history = await collectHistory(readHistory(s.store, "m"));
      expect(history.decisions.some((d) => d.trigger.late === true && d.trigger.name === "wake")).toBe(true);
      const monitor = JSON.parse(readFileSync(join(RULES_DIR, "continuous-monitor.json"), "utf8"));
      const report = await replay((await s.governor.getObject("m"))!, historyOf(history), monitor);
      expect(report.differences).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("replay while the server writes", () => {
  /** The store, posting a fact to "w" before each read of decisions: a server busy meanwhile. */
  function writing(store: Store, g: Governor): Store {
    let depth = 0;
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "decisionsAfter") return value;
        return async (...args: unknown[]) => {
          depth = depth === 0 ? 3 : 0;
          await g.postFacts("w", { queue: { depth } });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  test("history ends where the object's record does: no difference from decisions taken meanwhile", async () => {
    s = await makeServices();
    await history(s);
    const object = (await s.governor.getObject("w"))!;
    const store = writing(s.store, s.governor);
    const report = await replay(object, readHistory(store, object), queueWorker());
    expect(report.actualDecisions).toBeGreaterThanOrEqual(7);
    expect(report.differences).toEqual([]);
    // Read to its end instead, one pass sees decisions whose facts another pass did not.
    const unbounded = await replay(object, readHistory(store, "w"), queueWorker());
    expect(unbounded.differences).not.toEqual([]);
  });
});

describe("history up to the object's record", () => {
  // A review: capped at the last decision's id alone, history lost the decisions of a server
  // whose clock was ahead of the next one's (ids are minted time first, per server).
  test("keeps the decisions of a server whose clock was ahead of the one after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-skew-"));
    try {
      const url = `file:${join(dir, "v.db")}`;
      s = await makeServices({ store: new LibsqlStore({ url }), start: START });
      await s.governor.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
      await s.advance(60_000);
      await s.governor.postFacts("w", { queue: { depth: 2 } });
      await s.advance(60_000);
      await s.governor.postFacts("w", { queue: { depth: 0 } });
      await s.advance(60_000);
      await s.close();
      // The next server's clock is two minutes behind the first one's.
      s = await makeServices({ store: new LibsqlStore({ url }), start: START + 60_000 });
      await s.governor.postFacts("w", { queue: { depth: 5 } });
      await s.advance(1000);
      const object = (await s.governor.getObject("w"))!;
      const all = await collectHistory(readHistory(s.store, "w"));
      const capped = await collectHistory(readHistory(s.store, object));
      expect(all.decisions.length).toBeGreaterThanOrEqual(5);
      expect(capped.decisions.map((d) => d.id)).toEqual(all.decisions.map((d) => d.id));
      expect(capped.journal).toEqual(all.journal);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("replay reads history a page at a time", () => {
  /** The store, with the name and limit of every read of history written down. */
  function spied(store: Store, reads: string[]): Store {
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "decisionsAfter" && prop !== "listDecisions" && prop !== "journal") return value;
        return (...args: unknown[]) => {
          reads.push(`${String(prop)}(${prop === "journal" ? args[2] : args[1]})`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  test("readHistory reads decisions oldest first, one page at a time, only as far as they are read", async () => {
    s = await makeServices();
    await history(s);
    const reads: string[] = [];
    const h = readHistory(spied(s.store, reads), "w", 2);
    expect(reads).toEqual([]);
    const it = h.decisions()[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ trigger: { kind: "create" } });
    expect(reads).toEqual(["decisionsAfter(2)"]);
    const all = [(await it.next()).value];
    for (let r = await it.next(); !r.done; r = await it.next()) all.push(r.value);
    expect(all.length).toBeGreaterThan(4);
    expect(reads.every((r) => r === "decisionsAfter(2)")).toBe(true);
    const newestFirst = await s.store.listDecisions("w", 100);
    expect(all.map((d) => d.id)).toEqual(
      newestFirst
        .reverse()
        .slice(1)
        .map((d) => d.id),
    );
  });

  test.each([
    ["memory", () => new MemoryStore()],
    ["libsql", () => new LibsqlStore({ url: ":memory:" })],
  ])("%s: pages of 2 give the same report as pages of 500, with no read larger than a page", async (_, store) => {
    s = await makeServices({ store: store() });
    await history(s);
    const candidate = queueWorker();
    candidate.rules[0].conditions.all[0].value = 1;
    const object = (await s.governor.getObject("w"))!;
    const whole = await replay(object, readHistory(s.store, "w"), candidate);
    const reads: string[] = [];
    const paged = await replay(object, readHistory(spied(s.store, reads), "w", 2), candidate);
    expect(paged).toEqual(whole);
    expect(whole.differenceCount).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set(["decisionsAfter(2)", "journal(2)"]));
  });

  test("a journal compacted while it is read is a conflict, not a wrong report", async () => {
    s = await makeServices();
    await history(s);
    const { decisions, journal } = await collectHistory(readHistory(s.store, "w"));
    const compacted = journal.map((e, i) => (i === 2 ? { ...e, kind: "snapshot" as const } : e));
    const object = (await s.governor.getObject("w"))!;
    await expect(replay(object, historyOf({ decisions, journal: compacted }), queueWorker())).rejects.toMatchObject({
      kind: "conflict",
    });
  });
});
