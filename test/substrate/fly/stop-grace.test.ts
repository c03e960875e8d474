// A stop whose grace (the config's stopTimeout, sent with the stop, else the machine's own
// stop_config) is longer than the driver's waits (5 of 60 s): while Fly reports the machine
// `stopping` it is on its way, so the stop waits it out for as long as the grace and a minute
// (it failed as "did not reach stopped", and after the outbox's tries left the object failed).
// Past the grace, a machine still stopping fails the stop as before.
import { expect, test } from "vitest";
import { MACHINE, openRig, settle } from "./rig.ts";

const MINUTE = 60_000;

test("stopTimeout 20m and a machine that takes 20 minutes to stop: the stop waits it out", async () => {
  const r = await openRig({ state: "started", driver: { useLeases: true } });
  r.fake.transitionMs.stop = 20 * MINUTE;
  const t0 = r.clock.now();
  expect(await r.run(r.driver.stop(r.target({ stopTimeout: "20m" })))).toMatchObject({ status: "stopped" });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
  expect(r.clock.now() - t0).toBeGreaterThanOrEqual(20 * MINUTE);
  // One stop sent; the lease held throughout (extended, never lost: no 409 on any request).
  const statuses = r.fake.requests.map((q) => q.status);
  expect(r.fake.requests.filter((q) => q.action === "stop").length).toBe(1);
  expect(statuses).not.toContain(409);
});

test("the machine's own stop_config timeout of 15 minutes (no stopTimeout): the stop waits it out", async () => {
  const r = await openRig({ state: "started" });
  r.fake.machines.get(MACHINE)!.stopTimeout = "15m0s";
  r.fake.transitionMs.stop = 15 * MINUTE;
  expect(await r.run(r.driver.stop(r.target()))).toMatchObject({ status: "stopped" });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
  expect(r.fake.selfViolations, "the fake's Machine with a stop_config follows the document").toEqual([]);
});

test("control: a machine still stopping well past its grace fails the stop, retryably", async () => {
  const r = await openRig({ state: "started" });
  r.fake.transitionMs.stop = 3 * 60 * MINUTE;
  const t0 = r.clock.now();
  const res = await settle(r.run(r.driver.stop(r.target({ stopTimeout: "10m" }))));
  expect(res).toEqual({ ok: false, e: expect.stringMatching(/stopped|stopping/), retryable: true });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopping");
  // The grace and a minute past it, then the 412 rounds' own waits: well short of the 3 hours.
  expect(r.clock.now() - t0).toBeLessThan(60 * MINUTE);
});

// The failure goes into the decision's note, which is what an operator reads of it: after the grace
// of 10 minutes waited out, it said "did not reach stopped within 300 s".
test("a machine still stopping past its grace: the failure says how long it has been stopping, not the waits' 300 s", async () => {
  const r = await openRig({ state: "started" });
  r.fake.transitionMs.stop = 3 * 60 * MINUTE;
  const t0 = r.clock.now();
  const res = await settle(r.run(r.driver.stop(r.target({ stopTimeout: "10m" }))));
  const said = /: machine is still stopping after (\d+) s, past its stop grace of 600 s and a minute$/.exec(
    String((res as { e?: unknown }).e),
  );
  expect(said, String((res as { e?: unknown }).e)).not.toBeNull();
  expect(Number(said![1])).toBeGreaterThanOrEqual(660);
  expect(Number(said![1]) * 1000).toBeLessThanOrEqual(r.clock.now() - t0);
});

test("control: without a grace, a machine still stopping after the 5 waits fails as before", async () => {
  const r = await openRig({ state: "started" });
  r.fake.transitionMs.stop = 20 * MINUTE;
  const res = await settle(r.run(r.driver.stop(r.target())));
  expect(res).toEqual({ ok: false, e: expect.stringMatching(/stopp/), retryable: true });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopping");
});

test("a release's stop (a DELETE's, a rebind's) keeps to the waits: still stopping is a retryable failure, not hours held", async () => {
  const r = await openRig({ state: "started" });
  r.fake.transitionMs.stop = 20 * MINUTE;
  const t0 = r.clock.now();
  const res = await settle(r.run(r.driver.release!(r.target({ stopTimeout: "20m" }), "stop")));
  expect(res).toEqual({ ok: false, e: expect.stringMatching(/stopp/), retryable: true });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopping");
  expect(r.clock.now() - t0).toBeLessThan(20 * MINUTE);
});

// docs/substrates.md: the machine's own stop grace "as Fly last answered it". It was taken only
// from the reads before the stop (settled), not from those while the stop is waited for (reach):
// a machine whose stop_config was raised to 15 minutes once the stop was sent (a `fly machine
// update` meanwhile) was given up on after the 5 waits, though every read since said 15 minutes.
test("a stop_config grace Fly answers only after the stop was sent is waited out", async () => {
  const r = await openRig({ state: "started" });
  r.fake.transitionMs.stop = 15 * MINUTE;
  const m = r.fake.machines.get(MACHINE)!;
  const call = r.driver.stop(r.target());
  // The read and the stop take no time on the clock: the stop is sent before it moves.
  await expect.poll(() => r.fake.requests.some((q) => q.action === "stop")).toBe(true);
  m.stopTimeout = "15m0s";
  expect(await r.run(call)).toMatchObject({ status: "stopped" });
  expect(m.state).toBe("stopped");
});
