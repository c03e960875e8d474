// A signal during start-up stops recovery at its next step, not once all of it is done. With a
// million objects, arming a schedule changed while the server was down, or firing the timers
// that fell due meanwhile, takes a minute or more, and `vigil serve` used to hold a SIGTERM for
// all of it. What is left undone is done at the next start: an arming stopped half way is not
// recorded as done, the timers not fired are still due, and the pending actions not sent are
// still in the outbox.

import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { START } from "../helpers/services.ts";

/** More than the scheduler fires at once (1,024), so that a stopped round leaves some. */
const OBJECTS = 1_500;
const MINUTE = 60_000;
const HOURLY = "0 * * * *";

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
});

/** Wakes an object whose memory says `go`. */
const waker = {
  name: "w",
  version: "1",
  rules: [
    {
      name: "go",
      conditions: { all: [{ fact: "memory", path: "$.go", operator: "equal", value: true }] },
      event: { type: "wake" },
    },
  ],
};

/** Starts sent to the drivers of the governors made below. */
let starts = 0;

/** A governor over `store` serving policy `p` with `cron` (and `w`), its clock at `now`. */
function made(store: MemoryStore, now: number, cron = HOURLY) {
  const clock = new VirtualClock(now);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadText(JSON.stringify(scheduledPolicy({ name: "p", cron })), "inline/p.json").ok).toBe(true);
  expect(policies.loadText(JSON.stringify(waker), "inline/w.json").ok).toBe(true);
  const driver = new SimulatedDriver({ clock });
  const start = driver.start.bind(driver);
  driver.start = (t) => (starts++, start(t));
  const g = new Governor({ store, policies, clock, drivers: [driver], random: () => 0.5 });
  governors.push(g);
  return { governor: g, policies, driver };
}

function governor(store: MemoryStore, now: number, cron = HOURLY): Governor {
  return made(store, now, cron).governor;
}

/**
 * A database left by a server that armed hourly ticks on OBJECTS objects at START, and sent a
 * start that was still under way (a minute's latency) when it stopped.
 */
async function leftBehind(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const g = governor(store, START);
  await g.start();
  for (let i = 0; i < OBJECTS; i++) await g.putObject(`o-${String(i).padStart(5, "0")}`, { policy: "p" });
  const slow = { driver: "simulated", config: { startMs: 60_000 } };
  await g.putObject("waking", { policy: "w", substrate: slow, memory: { go: true } });
  await g.idle();
  await g.close();
  expect(await store.pendingActions()).toHaveLength(1);
  starts = 0;
  return store;
}

/** When each object's tick is due next, counted by minute of the hour. */
async function ticksByMinute(store: MemoryStore): Promise<Record<number, number>> {
  const byMinute: Record<number, number> = {};
  for (const o of await store.listObjects({ policy: "p", limit: OBJECTS })) {
    const minute = new Date(o.timers.find((t) => t.name === "tick")!.dueAt).getUTCMinutes();
    byMinute[minute] = (byMinute[minute] ?? 0) + 1;
  }
  return byMinute;
}

test("stopped while it fires the timers that fell due, start returns; the next start fires the rest", async () => {
  const store = await leftBehind();
  // Down over 01:00: every object's tick is overdue.
  const late = START + 150 * MINUTE;
  const g = governor(store, late);
  const stop = new AbortController();
  const fired = new Set<string>();
  g.events.on("timer:fired", (id) => {
    fired.add(id);
    stop.abort();
  });

  await g.start(stop.signal);

  expect(fired.size).toBeGreaterThan(0);
  expect(fired.size).toBeLessThan(OBJECTS);
  expect(await g.notReady()).toBe("recovery is not done");
  await g.close();

  const next = governor(store, late);
  const firedNext: string[] = [];
  next.events.on("timer:fired", (id) => firedNext.push(id));
  await next.start();
  // Each of the others once, and none of those fired before its stop.
  expect(firedNext).toHaveLength(OBJECTS - fired.size);
  expect(firedNext.filter((id) => fired.has(id))).toEqual([]);
  expect(await next.notReady()).toBeNull();
});

/**
 * A start that serves ticks at :30 instead of :00 (the rules file edited while the server was
 * down), stopped at its arming's first commit, then closed: the ticks by minute it left.
 */
async function armingStopped(store: MemoryStore, now: number): Promise<Record<number, number>> {
  const g = governor(store, now, "30 * * * *");
  const stop = new AbortController();
  g.events.on("commit:completed", () => stop.abort());
  await g.start(stop.signal);
  await g.close();
  return ticksByMinute(store);
}

test("stopped while it arms a changed schedule, the arming is not recorded; the next start arms the rest", async () => {
  const store = await leftBehind();
  const now = START + 10 * MINUTE;

  const half = await armingStopped(store, now);

  expect(half[30]).toBeGreaterThan(0);
  expect(half[0]).toBeGreaterThan(0);
  expect(await store.armedSchedules("p")).not.toContain("30 * * * *");
  await governor(store, now, "30 * * * *").start();
  expect(await ticksByMinute(store)).toEqual({ 30: OBJECTS });
  expect(await store.armedSchedules("p")).toContain("30 * * * *");
});

test("a signal given before start leaves recovery at its first step: nothing armed, fired or sent", async () => {
  const store = await leftBehind();
  const g = governor(store, START + 150 * MINUTE, "30 * * * *");
  let fired = 0;
  g.events.on("timer:fired", () => fired++);

  await g.start(AbortSignal.abort());

  expect(fired).toBe(0);
  expect(starts).toBe(0);
  expect(await ticksByMinute(store)).toEqual({ 0: OBJECTS });
  expect(await g.notReady()).toBe("recovery is not done");
});

test("stopped while it reads the pending actions: none is sent, and the next start sends it", async () => {
  const store = await leftBehind();
  const stop = new AbortController();
  const pendingActions = store.pendingActions.bind(store);
  store.pendingActions = () => (stop.abort(), pendingActions());

  await governor(store, START).start(stop.signal);

  expect(starts).toBe(0);
  store.pendingActions = pendingActions;
  await governor(store, START).start();
  expect(starts).toBe(1);
});

test("an arming stopped half way, its edit undone before the next start: that start arms the objects back", async () => {
  const store = await leftBehind();
  const now = START + 10 * MINUTE;
  expect((await armingStopped(store, now))[30]).toBeGreaterThan(0);

  // The rules file as it was (a deploy rolled back): the record must not say "armed already".
  await governor(store, now).start();

  expect(await ticksByMinute(store)).toEqual({ 0: OBJECTS });
});

test("stopped while the arming reads its first page, with ticks overdue: no tick fires", async () => {
  const store = await leftBehind();
  const g = governor(store, START + 150 * MINUTE, "30 * * * *");
  const stop = new AbortController();
  let fired = 0;
  g.events.on("timer:fired", () => fired++);
  const listObjects = store.listObjects.bind(store);
  store.listObjects = (q) => (q.policy === "p" && stop.abort(), listObjects(q));

  await g.start(stop.signal);

  // The scheduler's start would undo its stop: it is not started at all.
  expect(fired).toBe(0);
});

test("a reload's arming stops when the governor closes, and is not recorded as done", async () => {
  const store = await leftBehind();
  const { governor: g, policies } = made(store, START + 10 * MINUTE);
  const load = (cron: string, version: string) =>
    expect(policies.loadText(JSON.stringify(scheduledPolicy({ name: "p", cron, version })), "inline/p.json").ok).toBe(
      true,
    );
  await g.start();
  load("30 * * * *", "2");
  let closing: Promise<void> | null = null;
  g.events.on("commit:completed", () => void (closing ??= g.close()));

  const changed = await g.armSchedules("p");
  await closing;

  expect(changed).toBeGreaterThan(0);
  expect(changed).toBeLessThan(OBJECTS);
  expect(await store.armedSchedules("p")).toBe("");

  // An arming queued behind it (another reload) starts after the close: it writes nothing, not
  // even the cleared record, so that the next start walks no policy for nothing.
  load("45 * * * *", "3");
  await store.setArmedSchedules("p", "[]");
  expect(await g.armSchedules("p")).toBe(0);
  expect(await store.armedSchedules("p")).toBe("[]");
});

test("a clearing of the record that fails is told, and the walk goes on and records its end", async () => {
  const store = await leftBehind();
  const errors: string[] = [];
  const setArmedSchedules = store.setArmedSchedules.bind(store);
  let failures = 1;
  store.setArmedSchedules = (name, schedules) =>
    schedules === "" && failures-- > 0
      ? Promise.reject(new Error("the answer was lost"))
      : setArmedSchedules(name, schedules);
  const g = governor(store, START + 10 * MINUTE, "30 * * * *");
  g.events.on("governor:error", (e, context) => errors.push(`${context}: ${e.message}`));

  await g.start();

  expect(errors).toEqual(["clearing the armed schedules of p: the answer was lost"]);
  expect(await ticksByMinute(store)).toEqual({ 30: OBJECTS });
  expect(await store.armedSchedules("p")).toContain("30 * * * *");
});

test("stopped while it reads the pending actions, it re-adopts no compute", async () => {
  const store = await leftBehind();
  const { governor: g, driver } = made(store, START);
  let adopted = 0;
  Object.assign(driver, { adopt: async () => (adopted++, { status: "running", at: START }) });
  const stop = new AbortController();
  const pendingActions = store.pendingActions.bind(store);
  store.pendingActions = () => (stop.abort(), pendingActions());

  await g.start(stop.signal);

  expect(adopted).toBe(0);
});
