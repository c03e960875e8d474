// Fly's 429 with a Retry-After over the driver's own limit (60 s) is not waited out by the
// driver: the action fails, retryably, and goes back to the outbox. The outbox then waits at
// least as long as Fly asked before its next try (it tried again within seconds, and spent its
// six tries, leaving the object failed, in about 8 s of a 120 s pause).
import { afterEach, expect, test } from "vitest";
import { VirtualClock } from "../../src/timers/clock.ts";
import { startFlyFake } from "../substrate/fly/fake.ts";
import { flyGovernor, T0 } from "../substrate/fly/rig.ts";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers.length = 0;
});

test("a start answered 429 Retry-After: 120 is tried again by the outbox no sooner than 120 s later", async () => {
  const machineId = "3d8d9016b26789";
  const clock = new VirtualClock(T0);
  const fake = await startFlyFake({ clock, machines: [machineId] });
  closers.push(() => fake.close());
  const { governor, settle } = await flyGovernor(clock, fake);
  closers.push(() => governor.close());
  fake.faults.add({ action: "start", status: 429, retryAfterS: 120, times: 3 });

  await governor.putObject("agent-0", {
    policy: "on-demand",
    substrate: { driver: "fly", config: { app: fake.app, machineId, apiUrl: fake.url } },
  });
  await governor.postFacts("agent-0", { work: { pending: 1 } });
  for (let i = 0; i < 600 && fake.machines.get(machineId)!.state !== "started"; i++) await clock.advance(1_000, settle);

  const starts = fake.requests.filter((q) => q.action === "start").map((q) => q.received);
  expect(starts.length).toBe(4);
  for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(120_000);
  for (let i = 0; i < 10; i++) await clock.advance(1_000, settle);
  expect((await governor.getObject("agent-0"))!.state).toBe("active");
});
