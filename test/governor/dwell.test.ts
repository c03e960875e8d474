// dwell.minActive counts from the start of waking, whatever the substrate's start latency:
// a fact that arrives after the start was confirmed cannot push the deferral back.

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
