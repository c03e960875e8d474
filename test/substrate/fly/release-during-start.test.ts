// A release (DELETE, or a PUT that rebinds) while a start is with Fly: the governor releases
// from the object's mailbox without waiting for the start in flight. The start gives up: it
// sends no start request after the release, and stops again a machine its request started
// after the release's stop; it fails, and the machine ends stopped. (The start's later rounds
// read the stopped machine as a start that crashed and started it again, and it ran on with no
// object governing it.)

import { afterEach, expect, test } from "vitest";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { MACHINE, rig, settle, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

test.each([
  ["its start request, answered late", "start"],
  ["its first read of the machine, answered late", "get"],
] as const)("a release while the start has %s: the machine ends stopped", async (_what, action) => {
  r = await rig();
  const t = r.target();
  r.fake.faults.add({ action, delayMs: 2000 });
  const start = settle(r.driver.start(t));
  // The start's request is with Fly, waiting on the fake's clock.
  await expect.poll(() => r.fake.parkedIds.size).toBe(1);
  const release = settle(r.driver.release(t, "stop"));
  const [started, released] = await r.run(Promise.all([start, release]));
  expect(started).toMatchObject({ ok: false, e: expect.stringContaining("released"), retryable: false });
  expect(released.ok).toBe(true);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
  expect(r.fake.violations).toEqual([]);
});

test("a start begun after the release, on the same machine, is not undone by the one in flight before it", async () => {
  r = await rig();
  const a = r.target();
  r.fake.faults.add({ action: "start", delayMs: 2000 });
  const startA = settle(r.driver.start(a));
  await expect.poll(() => r.fake.parkedIds.size).toBe(1);
  await r.run(r.driver.release(a, "stop"));
  // Its object created again on the machine, and woken.
  const b = { ...r.target(), objectId: "obj-2" };
  expect((await r.run(settle(r.driver.start(b)))).ok).toBe(true);
  expect((await r.run(startA)).ok).toBe(false);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("a release through the API's other address, while a start through the first is with Fly: the same machine, it ends stopped", async () => {
  // A PUT that moves an object to another allowed address keeps its machine (sameCompute): a
  // release sent through the new address must meet the start still under way through the old.
  const alias = (url: string) => url.replace("127.0.0.1", "localhost");
  r = await rig();
  const driver = new FlyDriver({
    clock: r.clock,
    token: r.fake.token,
    random: () => 0.5,
    fetch: r.fetch,
    apiUrls: [r.fake.url, alias(r.fake.url)],
  });
  const t = r.target();
  r.fake.faults.add({ action: "start", delayMs: 2000 });
  const start = settle(driver.start(t));
  await expect.poll(() => r.fake.parkedIds.size).toBe(1);
  const release = settle(driver.release({ ...t, config: { ...t.config, apiUrl: alias(r.fake.url) } }, "stop"));
  const [started, released] = await r.run(Promise.all([start, release]));
  expect(started).toMatchObject({ ok: false, e: expect.stringContaining("released") });
  expect(released.ok).toBe(true);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
});
