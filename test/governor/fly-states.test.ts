// Under the governor: an object whose Fly machine went `failed` is reconciled away from active,
// and one whose machine was destroyed can be rebound to a new machine.
import { afterEach, expect, test } from "vitest";
import { VirtualClock } from "../../src/timers/clock.ts";
import { startFlyFake } from "../substrate/fly/fake.ts";
import { flyGovernor, T0 } from "../substrate/fly/rig.ts";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers.length = 0;
});

/** A governor with the fly driver against the fake holding `machines` (stopped), on a virtual clock. */
async function world(machines: string[]) {
  const clock = new VirtualClock(T0);
  const fake = await startFlyFake({ clock, machines });
  closers.push(() => fake.close());
  const { governor, settle } = await flyGovernor(clock, fake);
  closers.push(() => governor.close());
  /** Moves the clock a second at a time until `call` settles (an hour at most). */
  const run = async <T>(call: Promise<T>): Promise<T> => {
    let done = false;
    void call.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < 3_600 && !done; i++) await clock.advance(1_000, settle);
    return call;
  };
  return { clock, fake, governor, settle, run };
}

test("an active object whose machine is `failed` (not running) is reconciled away from active", async () => {
  const machineId = "f1a5e000000001";
  const { clock, fake, governor, settle, run } = await world([machineId]);

  await governor.putObject("agent-0", {
    policy: "on-demand",
    substrate: { driver: "fly", config: { app: fake.app, machineId, apiUrl: fake.url } },
  });
  await governor.postFacts("agent-0", { work: { pending: 1 } });
  for (let i = 0; i < 60; i++) await clock.advance(1_000, settle);
  expect((await governor.getObject("agent-0"))!.state).toBe("active");
  expect(fake.machines.get(machineId)!.state).toBe("started");

  // The machine crashes and Fly marks it failed (a persistent state: it stays until acted on).
  fake.machines.get(machineId)!.state = "failed";
  const diverged = await run(governor.reconcile());
  // Reconciliation sees it stopped (not `unknown`, which it passes over).
  expect(diverged, `object state now ${(await governor.getObject("agent-0"))!.state}`).toBe(1);
});

test("an object whose machine was destroyed can be rebound to a new machine", async () => {
  const { clock, fake, governor, settle, run } = await world(["0ld0000000000a", "new0000000000b"]);
  const config = (machineId: string) => ({ app: fake.app, machineId, apiUrl: fake.url });
  await governor.putObject("agent-0", {
    policy: "on-demand",
    substrate: { driver: "fly", config: config("0ld0000000000a") },
  });
  for (let i = 0; i < 5; i++) await clock.advance(1_000, settle);
  // The operator destroys the old machine (`fly machine destroy`) and points the object at a new one.
  fake.machines.get("0ld0000000000a")!.state = "destroyed";
  const res = await run(
    governor
      .putObject("agent-0", { policy: "on-demand", substrate: { driver: "fly", config: config("new0000000000b") } })
      .then(
        (v) => ({ ok: true, machineId: (v.object.substrate.config as { machineId: string }).machineId }),
        (e: Error) => ({ ok: false, error: e.message }),
      ),
  );
  expect(res).toEqual({ ok: true, machineId: "new0000000000b" });
});
