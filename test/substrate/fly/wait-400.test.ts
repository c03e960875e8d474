// Fly's `GET .../wait` may answer 400 (the OpenAPI document lists it: Fly will not wait on these
// terms, an instance that changed under us). After a command the driver polls on it; the same 400
// met while waiting for a machine already in motion to settle (before a command) or in observe
// escaped as a non-retryable error, and the object was marked `failed`. The machine is read again.
import { afterEach, expect, test } from "vitest";
import { MACHINE, T0, rig, settle, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

test("control: a 400 from the wait after the command is ridden out by polling", async () => {
  r = await rig();
  r.fake.transitionMs.start = 3_000;
  r.fake.faults.add({ action: "wait", status: 400, error: "instance_id does not match" });
  expect(await settle(r.run(r.driver.start(r.target())))).toMatchObject({ ok: true, v: { status: "running" } });
});

test.each([1_000, 20_000])(
  "a machine that settles elsewhere while the driver polls after a 400 (an update of %i ms stops it) is commanded again, not polled for 300 s",
  async (updateMs) => {
    r = await rig();
    r.fake.transitionMs.start = 30_000;
    r.fake.faults.add({ action: "wait", status: 400, error: "instance_id does not match" });
    const call = r.driver.start(r.target());
    // Once the wait has answered 400 (the driver polls from then on), an update replaces the
    // machine: it settles `stopped`, not the `started` the driver polls for.
    const replaced = (async () => {
      while (!r.fake.requests.some((q) => q.action === "wait" && q.status === 400))
        await new Promise((ok) => setTimeout(ok, 1));
      r.fake.transitionMs.start = 300;
      r.fake.replace(MACHINE, updateMs);
    })();
    const res = await settle(r.run(call));
    await replaced;
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
    // Polled while `replacing`, then a new round (read, start, wait) a few seconds after it settled;
    // polling on ran to the deadline of five waits (300 s) first.
    expect(r.clock.now() - T0).toBeLessThan(updateMs + 60_000);
    expect(r.fake.requests.filter((q) => q.action === "start")).toHaveLength(2);
  },
);

test("a 400 from the wait for a machine already stopping (before the start) is not a permanent failure", async () => {
  r = await rig({ state: "started" });
  r.fake.transitionMs.stop = 3_000;
  // Someone else stops the machine; Vigil's start finds it `stopping` and waits for `stopped`.
  const kick = await fetch(`${r.fake.url}/v1/apps/${r.fake.app}/machines/3d8d9016b26789/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.fake.token}` },
  });
  expect(kick.status).toBe(200);
  r.fake.faults.add({ action: "wait", status: 400, error: "instance_id does not match" });
  const res = await settle(r.run(r.driver.start(r.target())));
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
});

test("observe of a machine in motion whose wait answers 400 reports a state, not a permanent failure", async () => {
  r = await rig();
  r.fake.transitionMs.start = 2_000;
  const kick = await fetch(`${r.fake.url}/v1/apps/${r.fake.app}/machines/3d8d9016b26789/start`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.fake.token}` },
  });
  expect(kick.status).toBe(200);
  r.fake.faults.add({ action: "wait", status: 400, error: "instance_id does not match" });
  const res = await settle(r.run(r.driver.observe(r.target())));
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { machineId: "3d8d9016b26789" } });
});

test("a machine stopping for 10 s while every wait answers 400 is read once a second until it settles, then started", async () => {
  r = await rig({ state: "started" });
  r.fake.transitionMs.stop = 10_000;
  // Someone else stops the machine; Vigil's start finds it `stopping`, and Fly refuses every wait.
  const kick = await fetch(`${r.fake.url}/v1/apps/${r.fake.app}/machines/${MACHINE}/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.fake.token}` },
  });
  expect(kick.status).toBe(200);
  r.fake.faults.add({ action: "wait", status: 400, times: Infinity, error: "instance_id does not match" });
  const res = await settle(r.run(r.driver.start(r.target())));
  // The refused waits are not counted as the command's five waits of 60 s (they were all spent
  // in a few milliseconds, and the start failed "still stopping after 5 waits").
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
  const refused = r.fake.requests.filter((q) => q.action === "wait" && q.status === 400);
  expect(refused.length).toBeLessThanOrEqual(2);
  expect(r.clock.now() - T0).toBeGreaterThanOrEqual(10_000);
});

test("a machine replaced between the stop and its wait is observed as the instance it is now, not the one stopped", async () => {
  r = await rig({ state: "started" });
  r.fake.transitionMs.stop = 30_000;
  // The stop lands at once, its answer a second late: meanwhile a deploy replaces the machine
  // (another instance, stopped 5 s later), so the wait naming the old instance is refused (400)
  // and the driver reads the machine until it is stopped, as the new instance.
  r.fake.faults.add({ action: "stop", delayMs: 1_000 });
  const old = r.fake.machines.get(MACHINE)!.instanceId;
  const call = r.driver.stop(r.target());
  const replaced = (async () => {
    while (!r.fake.requests.some((q) => q.action === "stop")) await new Promise((ok) => setTimeout(ok, 1));
    r.fake.replace(MACHINE, 5_000);
  })();
  const res = await settle(r.run(call));
  await replaced;
  const now = r.fake.machines.get(MACHINE)!.instanceId;
  expect(now).not.toBe(old);
  expect(r.fake.requests.some((q) => q.action === "wait" && q.status === 400)).toBe(true);
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped", instanceId: now } });
});

test("a machine replaced while the wait after its stop is under way is observed as the instance it is now", async () => {
  r = await rig({ state: "started" });
  r.fake.transitionMs.stop = 30_000;
  const old = r.fake.machines.get(MACHINE)!.instanceId;
  const call = r.driver.stop(r.target());
  // The wait after the stop names the old instance and is parked on the fake's clock when a
  // deploy replaces the machine (another instance, stopped 5 s later): Fly will not answer
  // that wait for the new instance (the document's 400), and the driver reads the machine.
  const replaced = (async () => {
    while (!r.fake.requests.some((q) => q.action === "wait" && q.query.instance_id === old && q.status === 0))
      await new Promise((ok) => setTimeout(ok, 1));
    r.fake.replace(MACHINE, 5_000);
  })();
  const res = await settle(r.run(call));
  await replaced;
  const now = r.fake.machines.get(MACHINE)!.instanceId;
  expect(now).not.toBe(old);
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped", instanceId: now } });
  const waited = r.fake.requests.find((q) => q.action === "wait" && q.query.instance_id === old);
  expect(waited?.status).toBe(400);
});
