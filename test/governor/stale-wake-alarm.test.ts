// The object's own wake alarm (a dormancy's wakeAfter/wakeAt) is for waking a dormant object.
// Woken by Vigil, the alarm is cancelled ("the object is waking anyway"); found running instead
// (started elsewhere: a platform's autostart, an operator, a process resumed by hand) it was
// kept, and fired later on the awake object as a wake that vetoed its rules' dormancy, or was
// kept at its next sleep as an earlier alarm than the one that sleep asked for.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const checkIn = {
  name: "check-in",
  version: "1",
  rules: [
    {
      name: "idle",
      conditions: { all: [{ fact: "memory", path: "$.busy", operator: "equal", value: false }] },
      event: { type: "dormancy", params: { wakeAfter: "PT6H" } },
    },
  ],
};

async function asleepWithAlarm(): Promise<TestServices> {
  const t = await makeServices();
  expect(t.policies.loadText(JSON.stringify(checkIn), "inline/check-in.json").ok).toBe(true);
  await t.governor.putObject("o", { policy: "check-in" });
  // Started elsewhere at 00:00: the state follows the substrate.
  t.driver.crash("o", "running");
  await t.advance(0);
  const slept = await t.governor.postFacts("o", { busy: false });
  expect(slept.decision).toMatchObject({ outcome: "dormancy", toState: "sleeping" });
  await t.advance(0);
  const o = (await t.governor.getObject("o"))!;
  expect({ state: o.state, timers: o.timers }).toEqual({
    state: "dormant",
    timers: [{ name: "wake", dueAt: Date.parse("2026-03-01T06:00:00.000Z"), kind: "wake" }],
  });
  return t;
}

test("an object found running has its wake alarm cancelled, and the alarm does not fire on it", async () => {
  s = await asleepWithAlarm();
  await s.governor.postFacts("o", { busy: true });
  // 01:00: started elsewhere again; it works on.
  await s.advance(60 * 60_000);
  s.driver.crash("o", "running");
  await s.advance(0);
  const [found] = await s.governor.listDecisions("o", 1);
  expect(found).toMatchObject({ trigger: { kind: "substrate", name: "running" }, fromState: "active" });
  expect(found!.timers).toEqual([{ name: "wake", op: "cancel", kind: "wake" }]);
  expect(found!.notes).toEqual(["wake timer cancelled: the object is awake"]);
  expect((await s.governor.getObject("o"))!.timers).toEqual([]);

  // 05:59: its work is done, and it is put to sleep with a new alarm, six hours on.
  await s.advance(4 * 60 * 60_000 + 59 * 60_000);
  const slept = await s.governor.postFacts("o", { busy: false });
  expect(slept.decision.outcome).toBe("dormancy");
  expect(slept.decision.notes).toEqual([]);
  expect(slept.decision.timers).toEqual([
    { name: "wake", op: "set", dueAt: Date.parse("2026-03-01T11:59:00.000Z"), kind: "wake" },
  ]);
  // 06:00, when the old alarm was due, nothing wakes it.
  await s.advance(60_000);
  expect((await s.governor.getObject("o"))!.state).toBe("dormant");
});

test("an alarm left on an awake object does not veto the dormancy its rules ask for", async () => {
  s = await asleepWithAlarm();
  // Started elsewhere while still idle: its rules put it back to sleep (a new alarm, not the old one).
  await s.advance(60 * 60_000);
  s.driver.crash("o", "running");
  await s.advance(0);
  const [found] = await s.governor.listDecisions("o", 1);
  expect(found).toMatchObject({ outcome: "dormancy", fromState: "active", toState: "sleeping", notes: [] });
  expect(found!.timers).toEqual([
    { name: "wake", op: "set", dueAt: Date.parse("2026-03-01T07:00:00.000Z"), kind: "wake" },
  ]);
});
