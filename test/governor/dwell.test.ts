// dwell.minActive counts from the start of waking, whatever the substrate's start latency:
// a fact that arrives after the start was confirmed cannot push the deferral back. A wake from
// the object's own alarm that dwell.minDormant defers is carried out when the dwell ends. And
// sleeping counts as dormant for minDormant (as waking counts as active): a wake a second into
// a suspend used to start the object at once.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("a slow start does not move the dwell deferral past waking + minActive", async () => {
  s = await makeServices();
  // queue-worker: minActive PT2M. The simulated start takes 4 s.
  await s.governor.putObject("w", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { startMs: 4000 } },
  });
  const woke = await s.governor.postFacts("w", { queue: { depth: 1 } });
  expect(woke.decision).toMatchObject({ outcome: "wake", toState: "waking" });
  await s.advance(4000);
  expect((await s.governor.getObject("w"))!.state).toBe("active");

  // After the confirmation: the queue drains; dormancy waits for 00:02:00 (waking began at 00:00:00).
  await s.advance(6000);
  const drained = await s.governor.postFacts("w", { queue: { depth: 0 } });
  expect(drained.decision.notes).toEqual([
    "dormancy (idle) deferred by dwell.minActive until 2026-03-01T00:02:00.000Z",
  ]);
  expect(drained.decision.timers).toEqual([
    { name: "dwell", op: "set", dueAt: Date.parse("2026-03-01T00:02:00.000Z"), kind: "dwell" },
  ]);
  // And the object goes to sleep then, not 4 s later.
  await s.advance(109_999);
  expect((await s.governor.getObject("w"))!.state).toBe("active");
  await s.advance(1);
  const [slept] = await s.governor.listDecisions("w", 1);
  expect(slept).toMatchObject({ trigger: { kind: "timer", name: "dwell" }, outcome: "dormancy", toState: "sleeping" });
  expect(slept!.at).toBe(Date.parse("2026-03-01T00:02:00.000Z"));
});

test("an object that became active by an observation counts from then", async () => {
  s = await makeServices();
  await s.governor.putObject("w", { policy: "queue-worker" });
  await s.advance(60_000);
  // Started elsewhere: the state follows the substrate at 00:01:00.
  s.driver.crash("w", "running");
  await s.advance(0);
  expect((await s.governor.getObject("w"))!.state).toBe("active");
  await s.advance(30_000);
  const d = await s.governor.evaluate("w", {});
  expect(d.notes).toEqual(["dormancy (idle) deferred by dwell.minActive until 2026-03-01T00:03:00.000Z"]);
});

test("a wake timer deferred by dwell.minDormant is carried out when the dwell ends", async () => {
  s = await makeServices();
  const nap = {
    name: "nap",
    version: "1",
    dwell: { minDormant: "PT10M" },
    rules: [
      {
        name: "sleep-on-request",
        conditions: { all: [{ fact: "memory", path: "$.sleep", operator: "equal", value: true }] },
        event: { type: "dormancy", params: { wakeAfter: "PT1M" } },
      },
    ],
  };
  expect(s.policies.loadText(JSON.stringify(nap), "inline/nap.json").ok).toBe(true);
  await s.governor.putObject("o", { policy: "nap" });
  // Started elsewhere: the object follows the substrate to active.
  s.driver.crash("o", "running");
  await s.advance(0);
  expect((await s.governor.getObject("o"))!.state).toBe("active");
  const slept = await s.governor.postFacts("o", { sleep: true });
  expect(slept.decision.outcome).toBe("dormancy");
  await s.advance(0);
  expect((await s.governor.getObject("o"))!.state).toBe("dormant");
  // Stop asking for sleep: from now on only the wake timer can wake it.
  await s.governor.postFacts("o", { sleep: null });

  await s.advance(60_000); // the wake timer fires; minDormant defers the wake
  const [deferred] = await s.governor.listDecisions("o", 1);
  expect(deferred).toMatchObject({ trigger: { kind: "timer", name: "wake" }, outcome: "none" });
  expect(deferred!.notes.join()).toMatch(/deferred by dwell.minDormant/);

  // The dwell ends: the deferred wake is carried out (the alarm was set again for then).
  await s.advance(10 * 60_000);
  const obj = await s.governor.getObject("o");
  expect({ state: obj!.state, timers: obj!.timers }).toMatchObject({ state: "active" });
});

test("a wake while sleeping (suspend in flight) is deferred by dwell.minDormant", async () => {
  s = await makeServices();
  const nap = {
    name: "nap",
    version: "1",
    dwell: { minDormant: "PT10M" },
    rules: [
      {
        name: "work",
        conditions: { all: [{ fact: "memory", path: "$.work", operator: "equal", value: true }] },
        event: { type: "wake" },
      },
      {
        name: "idle",
        conditions: { all: [{ fact: "memory", path: "$.work", operator: "equal", value: false }] },
        event: { type: "dormancy" },
      },
    ],
  };
  expect(s.policies.loadText(JSON.stringify(nap), "inline/nap.json").ok).toBe(true);
  // A substrate whose suspend takes 5 s.
  await s.governor.putObject("o", { policy: "nap", substrate: { driver: "simulated", config: { suspendMs: 5000 } } });
  await s.advance(10 * 60_000); // past the first dwell
  await s.governor.postFacts("o", { work: true });
  await s.advance(60_000);
  expect((await s.governor.getObject("o"))!.state).toBe("active");

  const slept = await s.governor.postFacts("o", { work: false });
  expect(slept.decision).toMatchObject({ outcome: "dormancy", toState: "sleeping" });
  await s.advance(1000);
  expect((await s.governor.getObject("o"))!.state).toBe("sleeping");

  // One second into the sleep, work comes back: the object has not been dormant for ten minutes.
  const woke = await s.governor.postFacts("o", { work: true });
  expect(woke.decision.notes.join(" ")).toMatch(/deferred by dwell.minDormant/);
  expect(woke.decision.actions).toEqual([]);

  // The suspend is confirmed; the dwell counts from there: the wake comes ten minutes later.
  let started: number | null = null;
  s.governor.events.on("action:dispatched", (a) => {
    if (a.kind === "start") started ??= s!.clock.now();
  });
  await s.advance(5000);
  const dormantSince = (await s.governor.getObject("o"))!;
  expect(dormantSince.state).toBe("dormant");
  await s.advance(10 * 60_000 + 1000);
  expect(started).toBe(dormantSince.stateSince + 10 * 60_000);
});

// docs/policy-authors.md, "A dwell's end evaluates the rules again; it does not replay what was
// deferred": what a rule on the arrival itself asked for is dropped when the dwell ends.
test("a dwell's end evaluates the rules again: a deferral of a rule on the arrival is dropped", async () => {
  s = await makeServices();
  const onArrival = {
    name: "on-arrival",
    version: "1",
    dwell: { minActive: "PT2M", minDormant: "PT10M" },
    rules: [
      {
        name: "job-done",
        conditions: { all: [{ fact: "changed", operator: "contains", value: "$.job.done" }] },
        event: { type: "dormancy" },
      },
      {
        name: "restart-after-crash",
        conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "substrate" }] },
        event: { type: "wake" },
      },
    ],
  };
  expect(s.policies.loadText(JSON.stringify(onArrival), "inline/on-arrival.json").ok).toBe(true);
  await s.governor.putObject("o", { policy: "on-arrival" });
  s.driver.crash("o", "running"); // started elsewhere at 00:00
  await s.advance(60_000);
  const done = await s.governor.postFacts("o", { job: { done: true } });
  expect(done.decision.notes).toEqual([
    "dormancy (job-done) deferred by dwell.minActive until 2026-03-01T00:02:00.000Z",
  ]);
  await s.advance(60_000); // the dwell ends: job-done does not fire on the dwell's timer
  let o = (await s.governor.getObject("o"))!;
  expect({ state: o.state, timers: o.timers }).toEqual({ state: "active", timers: [] });

  // A crash: the restart it asks for is deferred by minDormant, and dropped at the dwell's end.
  s.driver.crash("o", "stopped");
  await s.advance(0);
  const [crashed] = await s.governor.listDecisions("o", 1);
  expect(crashed).toMatchObject({ trigger: { kind: "substrate" }, outcome: "none", toState: "dormant" });
  expect(crashed!.notes).toEqual([
    "wake (restart-after-crash) deferred by dwell.minDormant until 2026-03-01T00:12:00.000Z",
  ]);
  await s.advance(10 * 60_000);
  o = (await s.governor.getObject("o"))!;
  expect({ state: o.state, timers: o.timers }).toEqual({ state: "dormant", timers: [] });
});
