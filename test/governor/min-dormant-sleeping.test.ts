// dwell.minDormant holds a wake back until the object has been dormant long enough; as waking
// counts as active for minActive, sleeping (the suspend in flight) counts as dormant. A wake one
// second into the sleep was carried out at once: the object flapped suspend -> start.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
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
