// A machine Fly has forgotten. After a destroy, Fly's API shows the machine as `destroyed`
// for a short while and then answers 404 ("machine not found") for it. A stop or a suspend of
// it is done, as of a destroyed one, and observe reports it stopped (it failed for good: DELETE
// with compute=stop and any rebind of its object answered 503, and reconciliation never saw the
// machine gone). A start of it still fails: a wrong id is a 404 too.
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
