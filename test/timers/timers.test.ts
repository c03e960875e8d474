// Time: the virtual clock, the durable scheduler, cron schedules (with a daylight-saving
// change), rule-driven timers, and timers that fell due while the server was down.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { DUE_TIMERS } from "../../src/storage/rows.ts";
import { nextTick } from "../../src/core/schedule.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(opts: Parameters<typeof makeServices>[0] = {}) {
  const s = await makeServices(opts);
  open.push(s);
  return s;
}

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-timers-"));
  dirs.push(dir);
  return `file:${join(dir, "vigil.db")}`;
}

function addPolicy(s: TestServices, doc: Record<string, unknown>) {
  const r = s.policies.loadText(JSON.stringify({ version: "1", ...doc }), `inline/${String(doc.name)}.json`);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
}

describe("the virtual clock", () => {
  test("fires callbacks in due order, each at its own time, up to and including the target", async () => {
    const clock = new VirtualClock(1000);
    const seen: [string, number][] = [];
    clock.setTimeout(() => seen.push(["b", clock.now()]), 20);
    clock.setTimeout(() => seen.push(["a", clock.now()]), 10);
    const c = clock.setTimeout(() => seen.push(["cancelled", clock.now()]), 15);
    clock.setTimeout(() => seen.push(["late", clock.now()]), 31);
    clock.clearTimeout(c);
    await clock.advance(30);
    expect(seen).toEqual([
      ["a", 1010],
      ["b", 1020],
    ]);
    expect(clock.now()).toBe(1030);
    await clock.advance(1);
    expect(seen.at(-1)).toEqual(["late", 1031]);
  });
});

describe("cron schedules", () => {
  test("every object of a policy gets its next tick; each tick evaluates and re-arms", async () => {
    const s = await setup({ start: Date.parse("2026-03-01T00:00:30Z") });
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    expect((await s.governor.getObject("m1"))!.timers).toEqual([
      { name: "sweep", dueAt: Date.parse("2026-03-01T00:01:00.000Z"), kind: "cron" },
    ]);
    await s.advance(30_000);
    const [tick] = await s.governor.listDecisions("m1", 1);
    expect(tick).toMatchObject({
      trigger: { kind: "timer", name: "sweep" },
      at: Date.parse("2026-03-01T00:01:00.000Z"),
    });
    expect(tick!.timers).toEqual([
      { name: "sweep", op: "set", dueAt: Date.parse("2026-03-01T00:02:00.000Z"), kind: "cron" },
    ]);
    await s.advance(10 * 60_000);
    const ticks = (await s.governor.listDecisions("m1", 100)).filter((d) => d.trigger.name === "sweep");
    expect(ticks).toHaveLength(11);
  });

  test("a daily 09:00 New York schedule moves from 14:00Z to 13:00Z across the spring change", async () => {
    const s = await setup({ start: Date.parse("2026-03-06T12:00:00Z") });
    addPolicy(s, {
      name: "ny-morning",
      schedules: [{ name: "morning", cron: "0 9 * * *", timezone: "America/New_York" }],
      rules: [
        {
          name: "morning-wake",
          conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "morning" }] },
          event: { type: "wake" },
        },
      ],
    });
    await s.governor.putObject("ny", { policy: "ny-morning" });
    await s.advance(4 * 86_400_000);
    const mornings = (await s.governor.listDecisions("ny", 100))
      .filter((d) => d.trigger.name === "morning")
      .map((d) => new Date(d.at).toISOString())
      .reverse();
    expect(mornings).toEqual([
      "2026-03-06T14:00:00.000Z",
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z", // clocks went forward at 02:00 local on 8 March
      "2026-03-09T13:00:00.000Z",
    ]);
  });

  test("a quiet tick (no rule fired, nothing changed) is counted, not stored", async () => {
    const s = await setup({ start: Date.parse("2026-03-01T00:00:00Z") });
    await s.governor.putObject("m1", { policy: "continuous-monitor" });
    const before = s.governor.counters.evaluations;
    await s.advance(5 * 60_000);
    expect(s.governor.counters.evaluations - before).toBe(5);
    expect(await s.governor.listDecisions("m1", 100)).toHaveLength(1); // the create decision
    expect((await s.governor.getObject("m1"))!.timers.map((t) => t.dueAt)).toEqual([
      Date.parse("2026-03-01T00:06:00.000Z"),
    ]);
  });
});

describe("rule-driven timers", () => {
  test("schedule sets a named timer that re-evaluates; cancel removes it", async () => {
    const s = await setup();
    addPolicy(s, {
      name: "reminder",
      rules: [
        {
          name: "remind-later",
          conditions: { all: [{ fact: "memory", path: "$.remind", operator: "equal", value: true }] },
          event: { type: "schedule", params: { name: "nudge", after: "PT10M" } },
        },
        {
          name: "forget-it",
          conditions: { all: [{ fact: "memory", path: "$.remind", operator: "equal", value: false }] },
          event: { type: "cancel", params: { name: "nudge" } },
        },
        {
          name: "nudged",
          conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "nudge" }] },
          event: { type: "wake" },
        },
      ],
    });
    await s.governor.putObject("r", { policy: "reminder" });
    const set = await s.governor.postFacts("r", { remind: true });
    expect(set.decision.timers).toEqual([
      { name: "nudge", op: "set", dueAt: Date.parse("2026-03-01T00:10:00.000Z"), kind: "schedule" },
    ]);
    // A rule that fires again replaces the timer (schedule = set or replace).
    await s.advance(5 * 60_000);
    await s.governor.postFacts("r", { other: 1, remind: true });
    expect((await s.governor.getObject("r"))!.timers).toEqual([
      { name: "nudge", dueAt: Date.parse("2026-03-01T00:15:00.000Z"), kind: "schedule" },
    ]);
    await s.governor.postFacts("r", { remind: null });
    await s.advance(10 * 60_000);
    const [fired] = await s.governor.listDecisions("r", 1);
    expect(fired).toMatchObject({ trigger: { kind: "timer", name: "nudge" }, outcome: "wake" });
    expect(fired!.trigger.late).toBeUndefined();

    await s.governor.postFacts("r", { remind: true });
    const cancel = await s.governor.postFacts("r", { remind: false });
    expect(cancel.decision.timers).toEqual([{ name: "nudge", op: "cancel", kind: "schedule" }]);
    expect((await s.governor.getObject("r"))!.timers).toEqual([]);
  });

  test("a pending wake timer keeps the earlier due time when dormancy fires again", async () => {
    const s = await setup();
    await s.governor.putObject("w", { policy: "queue-worker" });
    await s.governor.postFacts("w", { queue: { depth: 1 } });
    await s.advance(3 * 60_000);
    await s.governor.postFacts("w", { queue: { depth: 0 } });
    await s.advance(0);
    const first = (await s.governor.getObject("w"))!.timers.find((t) => t.name === "wake")!.dueAt;
    await s.advance(60 * 60_000);
    // The object is dormant; a forced re-evaluation with dormancy firing must not postpone it.
    const again = await s.governor.evaluate("w", {});
    expect(again.outcome).toBe("none");
    expect((await s.governor.getObject("w"))!.timers.find((t) => t.name === "wake")!.dueAt).toBe(first);
  });
});

describe("downtime", () => {
  test("timers that fell due while the server was down fire once, late; missed cron ticks coalesce", async () => {
    const url = tempDb();
    const start = Date.parse("2026-03-01T00:00:00Z");
    const s1 = await makeServices({ store: new LibsqlStore({ url }), start });
    await s1.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s1.advance(0);
    await s1.governor.postFacts("m1", { alerts: { open: 1 } }); // hold lease until 00:15
    await s1.close();

    // Down for an hour: 60 sweep ticks and the hold's expiry were missed.
    const s2 = await setup({ store: new LibsqlStore({ url }), start: start + 60 * 60_000 + 20_000 });
    await s2.advance(0);
    const late = (await s2.governor.listDecisions("m1", 100)).filter((d) => d.trigger.late === true);
    // The sweep came due first (00:01) and fired once for all 60 missed ticks. The alert is
    // still open, so that evaluation renewed the hold lease; the old hold timer (00:15) then
    // had nothing left to do.
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      trigger: { kind: "timer", name: "sweep", late: true },
      at: Date.parse("2026-03-01T01:00:20.000Z"),
    });
    expect((await s2.governor.getObject("m1"))!.timers).toEqual([
      { name: "sweep", dueAt: Date.parse("2026-03-01T01:01:00.000Z"), kind: "cron" },
      { name: "hold", dueAt: Date.parse("2026-03-01T01:15:20.000Z"), kind: "hold" },
    ]);
    // Timers that fire on time afterwards are not late.
    await s2.advance(40_000);
    const [next] = await s2.governor.listDecisions("m1", 1);
    expect(next!.trigger).toEqual({ kind: "timer", name: "sweep" });
  });

  test("a timer that fires more than a second after its due time is late", async () => {
    const s = await setup();
    await s.governor.putObject("m1", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    // Stop the world: the clock jumps without letting the scheduler run in between.
    await s.clock.advance(0);
    const clockInternals = s.clock as unknown as { current: number };
    clockInternals.current += 90_000;
    await s.advance(0);
    const [tick] = await s.governor.listDecisions("m1", 1);
    expect(tick!.trigger).toEqual({ kind: "timer", name: "sweep", late: true });
  });
});

describe("scale", () => {
  test("due-timer reads use the due-time index, not a scan (100,000 pending timers)", async () => {
    const url = tempDb();
    const store = new LibsqlStore({ url });
    await store.migrate();
    await store.client.execute(
      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) " +
        "INSERT INTO timers (object_id, name, due_at, kind) SELECT 'o' || i, 'wake', 1000000 + i, 'wake' FROM n",
    );
    const plan = await store.client.execute({ sql: `EXPLAIN QUERY PLAN ${DUE_TIMERS}`, args: [1_000_100, 256] });
    const detail = plan.rows.map((r) => String(r.detail)).join(" | ");
    expect(detail).toMatch(/USING INDEX timers_due/);
    expect(detail).not.toMatch(/SCAN timers(?! USING)/);
    expect((await store.dueTimers(1_000_099, 1000)).length).toBe(100);
    expect(await store.nextTimer()).toEqual({ objectId: "o0", name: "wake", dueAt: 1_000_000, kind: "wake" });
    await store.close();
  });
});

describe("a timer whose evaluation fails", () => {
  test("is used up once, and its schedule goes on", async () => {
    const s = await setup();
    addPolicy(s, {
      name: "brittle",
      schedules: [{ name: "tick", cron: "*/10 * * * * *" }],
      rules: [
        {
          name: "boom",
          priority: 10,
          conditions: {
            all: [
              // Checked first: only a tick reaches the condition that throws.
              { fact: "trigger", path: "$.name", operator: "equal", value: "tick", priority: 2 },
              { fact: "memory", path: "$.missing", operator: "swap:in", value: ["x"], priority: 1 },
            ],
          },
          event: { type: "wake" },
        },
      ],
    });
    const errors: string[] = [];
    s.governor.events.on("governor:error", (e) => errors.push(e.message));
    await s.governor.putObject("b", { policy: "brittle" });
    await s.advance(10_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/failed to evaluate.*timer used up without an evaluation/);
    expect((await s.governor.getObject("b"))!.timers).toEqual([
      { name: "tick", dueAt: Date.parse("2026-03-01T00:00:20.000Z"), kind: "cron" },
    ]);
    await s.advance(10_000);
    expect(errors).toHaveLength(2);
  });
});

describe("a local time that does not exist", () => {
  test("02:30 on the spring-forward day in New York fires once, at 03:30 local", () => {
    const s = { name: "night", cron: "30 2 * * *", timezone: "America/New_York" };
    let t = Date.parse("2026-03-07T00:00:00Z");
    const ticks: string[] = [];
    for (let i = 0; i < 3; i++) ticks.push(new Date((t = nextTick(s, t)!)).toISOString());
    expect(ticks).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:30:00.000Z", // 02:30 does not exist: 03:30 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
  });
});
