// A machine Fly has forgotten. After a destroy, Fly's API shows the machine as `destroyed`
// for a short while and then answers 404 ("machine not found") for it. A stop or a suspend of
// it is done, as of a destroyed one, and observe reports it stopped (it failed for good: DELETE
// with compute=stop and any rebind of its object answered 503, and reconciliation never saw the
// machine gone). A start of it still fails: a wrong id is a 404 too. Another 404 (a wrong app,
// a wrong base URL) is not the machine's: it fails.
import { afterEach, expect, test } from "vitest";
import { MACHINE, rig, settle, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

test("control: while Fly still shows the machine as destroyed, release(stop) is done", async () => {
  r = await rig({ state: "destroyed" });
  expect(await settle(r.run(r.driver.release!(r.target(), "stop")))).toEqual({ ok: true, v: undefined });
});

test("once Fly answers 404 for the destroyed machine, release(stop) is still done", async () => {
  r = await rig({ state: "destroyed" });
  r.fake.machines.delete(MACHINE); // Fly purged it: GET .../machines/{id} is 404 now
  const res = await settle(r.run(r.driver.release!(r.target(), "stop")));
  expect(res, JSON.stringify(res)).toEqual({ ok: true, v: undefined });
});

test("once Fly answers 404 for the destroyed machine, observe reports it stopped", async () => {
  r = await rig({ state: "destroyed" });
  r.fake.machines.delete(MACHINE);
  const res = await settle(r.run(r.driver.observe(r.target())));
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped" } });
});

test("a suspend of a machine Fly no longer knows is done; a start of it fails, not retried", async () => {
  r = await rig({ state: "destroyed" });
  r.fake.machines.delete(MACHINE);
  expect(await settle(r.run(r.driver.suspend(r.target())))).toMatchObject({ ok: true, v: { status: "stopped" } });
  const start = await r.run(r.driver.start(r.target())).then(
    () => null,
    (e: Error & { retryable?: boolean }) => ({ message: e.message, retryable: e.retryable }),
  );
  expect(start).toEqual({ message: expect.stringMatching(/404 machine .* not found/), retryable: false });
});

// Only Fly's answer for an unknown machine says it is gone. A wrong app name is a 404 too
// ("app ... not found"), and so is a wrong base URL's page: neither says anything of the
// machine, so neither may make an object look destroyed (and a DELETE stop nothing).
test("a wrong app name (404 app not found): observe and release(stop) fail, not stopped", async () => {
  r = await rig({ state: "started" });
  const observed = await settle(r.run(r.driver.observe(r.target({ app: "no-such-app" }))));
  expect(observed).toEqual({ ok: false, e: expect.stringMatching(/404 app no-such-app not found/), retryable: false });
  const released = await settle(r.run(r.driver.release!(r.target({ app: "no-such-app" }), "stop")));
  expect(released).toEqual({ ok: false, e: expect.stringMatching(/404 app no-such-app not found/), retryable: false });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("a 404 page that is not Fly's (a wrong base URL): observe and suspend fail, not stopped", async () => {
  r = await rig({ state: "started" });
  r.fake.faults.add({ action: "get", status: 404, rawBody: "404 page not found\n", times: 2 });
  const observed = await settle(r.run(r.driver.observe(r.target())));
  expect(observed).toEqual({ ok: false, e: expect.stringMatching(/HTTP 404 404 page not found$/), retryable: false });
  const suspended = await settle(r.run(r.driver.suspend(r.target())));
  expect(suspended).toMatchObject({ ok: false, retryable: false });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("Fly's 404 for the machine after a retried 503 still reads as gone", async () => {
  r = await rig({ state: "destroyed" });
  r.fake.faults.add({ action: "get", status: 503 });
  r.fake.faults.add({ action: "get", status: 404, error: "machine not found", times: Infinity });
  const observed = await settle(r.run(r.driver.observe(r.target())));
  expect(observed, JSON.stringify(observed)).toMatchObject({ ok: true, v: { status: "stopped" } });
});

// What Fly says is not found decides, not every word of its answer: the machine's 404 may name
// the app it was looked for in, and an app's 404 the machine asked for.
test.each([
  ["machine 3d8d9016b26789 not found in app vigil-test", true],
  ["not found: machine 3d8d9016b26789", true],
  ["failed to get machine: app vigil-test not found", false],
  ["machine 3d8d9016b26789 of app vigil-test not found", false],
])("a 404 saying %j reads as the machine gone: %s", async (error, gone) => {
  r = await rig({ state: "started" });
  r.fake.faults.add({ action: "get", status: 404, error, times: Infinity });
  const observed = await settle(r.run(r.driver.observe(r.target())));
  if (gone) expect(observed, JSON.stringify(observed)).toMatchObject({ ok: true, v: { status: "stopped" } });
  else expect(observed).toMatchObject({ ok: false, retryable: false });
});

// Fly's 404 for an unknown app quotes the app's name ("app NAME not found"), and a name may hold
// the words Fly's errors are read by (Fly's names are lowercase words joined by dashes): an app
// named ml-machine-pool read as "machine ... not found", and a wrong app made the machine look
// destroyed. Names are not words of Fly's answer.
test.each(["ml-machine-pool", "machine", "app", "my-apps"])(
  "a wrong app named %j (404 app ... not found): observe and release(stop) fail, not stopped",
  async (app) => {
    r = await rig({ state: "started" });
    const observed = await settle(r.run(r.driver.observe(r.target({ app }))));
    expect(observed).toEqual({ ok: false, e: expect.stringContaining(`404 app ${app} not found`), retryable: false });
    const released = await settle(r.run(r.driver.release!(r.target({ app }), "stop")));
    expect(released).toEqual({ ok: false, e: expect.stringContaining(`404 app ${app} not found`), retryable: false });
    expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
  },
);
