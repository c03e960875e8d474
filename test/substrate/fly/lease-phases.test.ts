// The machine lease (`lease: true`) across a command's phases and beside a release. A release
// (DELETE, rebind) while a start holds the lease and waits on a slow machine stops the machine
// with the start's lease instead of meeting it as another holder's (it failed with a 409, and the
// start, told of a release that never happened, stopped the machine and failed the object): also
// while the start is still taking it, and after the start has ended without releasing it. A
// start waits for every release begun while it was under way, and stands if none went through. The lease is extended within a phase as well as
// before each, so that a deploy followed by a slow boot, one phase of up to 600 s, does not outlast
// a lease of 360 s. And a machine stuck in motion gets five waits in all over the command's rounds.

import { afterEach, expect, test } from "vitest";
import { MACHINE, rig, settle, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

/** A start under way on a machine that takes 40 s to boot: its request went through. */
async function slowStart(lease: boolean) {
  r = await rig({ fake: { transitionMs: { start: 40_000 } } });
  const t = r.target({ lease });
  const start = settle(r.driver.start(t));
  await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
  return { t, start };
}

test.each([false, true])(
  "lease %s: a release while a slow start waits for `started` stops the machine",
  async (lease) => {
    const { t, start } = await slowStart(lease);
    const released = await r.run(settle(r.driver.release(t, "stop")));
    expect(released.ok).toBe(true);
    expect(await r.run(start)).toMatchObject({ ok: false, e: expect.stringContaining("released"), retryable: false });
    expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
    // The release sent the start's nonce: nobody met the lease as held, and none is left behind.
    expect(r.fake.requests.filter((q) => q.status === 409)).toEqual([]);
    expect(r.fake.machines.get(MACHINE)!.lease).toBeNull();
    expect(r.fake.violations).toEqual([]);
  },
);

test("a release that fails leaves the start in flight to finish as if none had been asked for", async () => {
  const { t, start } = await slowStart(true);
  r.fake.faults.add({ action: "stop", status: 503, times: Infinity });
  const released = await r.run(settle(r.driver.release(t, "stop")));
  expect(released.ok).toBe(false);
  r.fake.faults.clear();
  expect(await r.run(start)).toMatchObject({ ok: true, v: { status: "running" } });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("the lease does not run out while a command waits out a deploy and then a slow boot", async () => {
  r = await rig({ state: "stopped" });
  const m = r.fake.machines.get(MACHINE)!;
  m.state = "updating";
  const t0 = r.clock.now();
  // The update ends after 290 s (read once a second), then the machine boots until 520 s (waited on).
  r.clock.setTimeout(() => (m.state = "starting"), 290_000);
  r.clock.setTimeout(() => (m.state = "started"), 520_000);
  const lapsed: number[] = [];
  for (let at = 10_000; at < 520_000; at += 10_000)
    r.clock.setTimeout(() => {
      if (!m.lease || m.lease.expiresAt <= r.clock.now()) lapsed.push(at / 1000);
    }, at);
  const started = await r.run(settle(r.driver.start(r.target({ lease: true }))));
  expect(started.ok).toBe(true);
  expect(r.clock.now() - t0).toBeGreaterThanOrEqual(520_000);
  expect(lapsed).toEqual([]);
});

test.each(["start", "release"] as const)(
  "%s of a machine stuck `starting` fails after five waits in all",
  async (call) => {
    r = await rig({ state: "stopped" });
    r.fake.machines.get(MACHINE)!.state = "starting"; // no transition ends it
    const t = r.target();
    const res = await r.run(settle<unknown>(call === "start" ? r.driver.start(t) : r.driver.release(t, "stop")));
    expect(res).toMatchObject({
      ok: false,
      e: expect.stringContaining("still starting after 5 waits of 60 s"),
      retryable: true,
    });
    expect(r.fake.requests.filter((q) => q.action === "wait")).toHaveLength(5);
  },
);

test.each([false, true])(
  "lease %s: a release that fails does not undo a start begun while it was under way",
  async (lease) => {
    r = await rig({ state: "started" });
    // The release's stop is answered 503 after 2 s, with a Retry-After not waited out: the release
    // fails then, once, well within the tries of a start meeting its lease meanwhile (at least 3.75 s).
    r.fake.faults.add({ action: "stop", status: 503, retryAfterS: 120, delayMs: 2_000, times: Infinity });
    const release = settle(r.driver.release(r.target({ lease }), "stop"));
    await expect.poll(() => r.fake.requests.some((q) => q.action === "stop")).toBe(true);
    const start = settle(r.driver.start({ ...r.target({ lease }), objectId: "obj-2" }));
    const released = await r.run(release.finally(() => r.fake.faults.clear()));
    expect(released.ok).toBe(false);
    expect(await r.run(start)).toMatchObject({ ok: true, v: { status: "running" } });
    expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
  },
);

test("a start waits for every release begun while it was under way, not only the last", async () => {
  r = await rig({ fake: { transitionMs: { start: 10_000 } } });
  const start = settle(r.driver.start(r.target()));
  await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
  // The first release's read is answered late, and refused; the second fails at once.
  r.fake.faults.add({ action: "get", status: 403, delayMs: 25_000 });
  const first = settle(r.driver.release(r.target(), "stop"));
  await expect.poll(() => r.fake.parkedIds.size).toBe(2);
  r.fake.faults.add({ action: "lease-acquire", status: 400 });
  const second = settle(r.driver.release({ ...r.target({ lease: true }), objectId: "obj-2" }, "stop"));
  const [started, a, b] = await r.run(Promise.all([start, first, second]));
  expect([a.ok, b.ok]).toEqual([false, false]);
  expect(started).toMatchObject({ ok: true, v: { status: "running" } });
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("a release while the start is still taking its lease shares it once taken", async () => {
  r = await rig({ fake: { transitionMs: { start: 40_000 } } });
  const t = r.target({ lease: true });
  r.fake.faults.add({ action: "lease-acquire", delayMs: 12_000 });
  const start = settle(r.driver.start(t));
  // The lease is taken on Fly; its answer is 12 s late.
  await expect.poll(() => r.fake.machines.get(MACHINE)!.lease !== null).toBe(true);
  const released = await r.run(settle(r.driver.release(t, "stop")));
  expect((await r.run(start)).ok).toBe(false);
  expect(released.ok).toBe(true);
  expect(r.fake.requests.filter((q) => q.status === 409)).toEqual([]);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
});

test("a release sharing a start's lease still holds it when the start ends first and cannot release it", async () => {
  r = await rig({ fake: { transitionMs: { start: 40_000 } } });
  const t = r.target({ lease: true });
  const start = settle(r.driver.start(t));
  await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
  r.fake.faults.add({ action: "lease-release", status: 503, times: Infinity });
  const [released] = await r.run(Promise.all([settle(r.driver.release(t, "stop")), start]));
  expect(released.ok).toBe(true);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
});

test.each(["start", "suspend"] as const)(
  "another object's %s on the machine, refused the lease, does not hide the start's lease from a release",
  async (call) => {
    r = await rig({ fake: { transitionMs: { start: 60_000 } } });
    const a = r.target({ lease: true });
    const b = { ...r.target({ lease: true }), objectId: "obj-2" };
    const startA = settle(r.driver.start(a));
    await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
    const other = await r.run(settle<unknown>(call === "start" ? r.driver.start(b) : r.driver.suspend(b)));
    expect(other.ok).toBe(false);
    const released = await r.run(settle(r.driver.release(a, "stop")));
    expect(released.ok ? "released" : released.e).toBe("released");
    await r.run(startA);
    expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
  },
);

test("a release begun while another object's take on the machine is being refused shares the start's lease", async () => {
  r = await rig({ fake: { transitionMs: { start: 60_000 } } });
  const a = r.target({ lease: true });
  const b = { ...r.target({ lease: true }), objectId: "obj-2" };
  const startA = settle(r.driver.start(a));
  await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
  const startB = settle(r.driver.start(b));
  await expect.poll(() => r.fake.requests.some((q) => q.action === "lease-acquire" && q.status === 409)).toBe(true);
  const [released, other] = await r.run(Promise.all([settle(r.driver.release(a, "stop")), startB]));
  expect(other.ok).toBe(false);
  expect(released.ok ? "released" : released.e).toBe("released");
  await r.run(startA);
});

test("a release begun while the start waits for an earlier release is waited for too", async () => {
  r = await rig({ fake: { transitionMs: { start: 10_000 } } });
  const state = () => r.fake.machines.get(MACHINE)!.state;
  const a = r.target();
  const b = { ...r.target(), objectId: "obj-2" };
  const start = settle(r.driver.start(a));
  await expect.poll(state).toBe("starting");
  // The first release's read is answered late, and refused.
  r.fake.faults.add({ action: "get", status: 403, delayMs: 25_000 });
  const first = settle(r.driver.release(b, "stop"));
  await expect.poll(() => r.fake.parkedIds.size).toBe(2);
  await r.run(new Promise<void>((resolve) => r.clock.setTimeout(resolve, 12_000)));
  expect(state()).toBe("started");
  // The start's command is done, and it waits for the first release; a second one goes through.
  const second = await r.run(settle(r.driver.release(a, "stop")));
  expect(second.ok).toBe(true);
  expect(state()).toBe("stopped");
  const [started, f] = await r.run(Promise.all([start, first]));
  expect(f.ok).toBe(false);
  expect(started).toMatchObject({ ok: false, e: expect.stringContaining("released") });
});

test("the lease a release shares is the one taken, though another command took its turn first and failed", async () => {
  r = await rig({ fake: { transitionMs: { start: 60_000 } } });
  const a = r.target({ lease: true });
  const b = { ...r.target({ lease: true }), objectId: "obj-2" };
  // A's first take is answered late with a 503 (nothing taken); its retry then meets B's lease.
  r.fake.faults.add({ action: "lease-acquire", status: 503, delayMs: 5_000 });
  const startA = settle(r.driver.start(a));
  await expect.poll(() => r.fake.parkedIds.size).toBe(1);
  const startB = settle(r.driver.start(b));
  await expect.poll(() => r.fake.machines.get(MACHINE)!.state).toBe("starting");
  expect((await r.run(startA)).ok).toBe(false);
  const released = await r.run(settle(r.driver.release(b, "stop")));
  expect(released.ok ? "released" : released.e).toBe("released");
  await r.run(startB);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("stopped");
});
