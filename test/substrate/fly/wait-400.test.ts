// Fly's `GET .../wait` may answer 400 (the OpenAPI document lists it: Fly will not wait on these
// terms, an instance that changed under us). After a command the driver polls on it; the same 400
// met while waiting for a machine already in motion to settle (before a command) or in observe
// escaped as a non-retryable error, and the object was marked `failed`. The machine is read again.
import { afterEach, expect, test } from "vitest";
import { rig, settle, type Rig } from "./rig.ts";

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
