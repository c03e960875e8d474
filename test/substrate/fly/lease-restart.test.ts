// Leases left behind and leases kept. After a restart, a lease an earlier server left for an
// object (it stopped before releasing it) is taken up by its nonce by the next command for that
// object, and only for that object; so is this server's own after lost answers. One command
// takes a left or kept lease up, never two at once, and a take-up that fails on a passing error
// is kept for the next command, as a lease whose release failed is.

import { afterEach, expect, test } from "vitest";
import { seededRandom } from "../../../src/core/random.ts";
import { LEASE_NONCE_HEADER } from "../../../src/substrate/fly/client.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { DEFAULT_FLY_RETRY } from "../../../src/substrate/fly/retry.ts";
import { MACHINE, rejection, rig, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
  expect(r.fake.violations).toEqual([]);
});

/** A server started after the rig's driver stopped: a new driver (its own randomness), the same Fly. */
const restarted = (fetch: typeof globalThis.fetch = r.fetch) =>
  new FlyDriver({ clock: r.clock, token: r.fake.token, random: seededRandom(12), fetch, apiUrls: [r.fake.url] });

/** The rig's driver starts the machine under a lease and fails to release it; a minute passes. */
async function leftLease() {
  r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  await r.run(r.driver.start(r.target({ lease: true })));
  const left = r.fake.machines.get(MACHINE)!.lease!;
  await r.clock.advance(60_000);
  r.fake.requests.length = 0;
  return left;
}

const description = (q: { body: unknown }) => (q.body as { description?: string } | undefined)?.description ?? "";

/** A suspend and a stop of obj-1 at once: how each ended, and how many commands held `nonce`. */
async function suspendAndStop(d: FlyDriver, nonce: string) {
  const [suspend, stop] = await r.run(
    Promise.allSettled([d.suspend(r.target({ lease: true })), d.stop(r.target({ lease: true }))]),
  );
  const holds = r.fake.requests.filter((q) => q.action === "lease-acquire" && q.nonce === nonce && q.status === 200);
  return { suspend, stop, holders: new Set(holds.map(description)).size };
}

test("the next command for the same object takes the left lease up by its nonce", async () => {
  r = await rig({ state: "stopped" });
  const left = await leftLease();
  expect(await r.run(restarted().stop(r.target({ lease: true })))).toMatchObject({ status: "stopped" });
  // Met as held, read back at once (not tried again first), and taken up by its nonce.
  const seq = r.fake.requests.map((q) => [q.action, q.status, q.nonce ?? null]);
  expect(seq.slice(0, 3)).toEqual([
    ["lease-acquire", 409, null],
    ["lease-show", 200, null],
    ["lease-acquire", 200, left.nonce],
  ]);
  expect(seq).toContainEqual(["stop", 200, left.nonce]);
  expect(r.fake.machines.get(MACHINE)!.lease).toBeNull(); // released
});

test("a lease another object's command left on the machine is still another holder's", async () => {
  r = await rig({ state: "stopped" });
  r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  await r.run(r.driver.start({ ...r.target({ lease: true }), objectId: "obj-2" }));
  r.fake.requests.length = 0;
  const e = await rejection(r.run(restarted().stop(r.target({ lease: true }))));
  expect(e.retryable).toBe(true);
  expect(e.message).toMatch(/409 lease currently held/);
  expect(r.fake.requests.filter((q) => q.action === "lease-acquire").every((q) => !q.nonce)).toBe(true);
  expect(r.fake.machines.get(MACHINE)!.state).toBe("started");
});

test("two commands of the restarted server at once: one takes the left lease up, the other meets it", async () => {
  // The machine takes 10 s to suspend: the first command holds the lease meanwhile.
  r = await rig({ state: "stopped", fake: { transitionMs: { suspend: 10_000 } } });
  const left = await leftLease();
  // Each lease read back reaches the driver 2 s late: both commands read it before either takes it up.
  r.fake.faults.add({ action: "lease-show", delayMs: 2_000, times: 2 });
  const { suspend, stop, holders } = await suspendAndStop(restarted(), left.nonce);
  expect(holders).toBe(1);
  expect([suspend.status, stop.status].sort()).toEqual(["fulfilled", "rejected"]);
  const refused = (suspend.status === "rejected" ? suspend : stop) as PromiseRejectedResult;
  expect(String(refused.reason)).toMatch(/409 lease currently held/);
});

test("a take-up Fly applied whose answer was lost, then 503s: the next command takes the lease up", async () => {
  r = await rig({ state: "stopped" });
  const left = await leftLease();
  // Between the restarted server and Fly: the first take-up is served but its answer lost, the
  // retries meet 503.
  let tries = 0;
  const flaky: typeof fetch = async (input, init) => {
    const nonce = new Headers(init?.headers).get(LEASE_NONCE_HEADER);
    if (init?.method === "POST" && String(input).endsWith("/lease") && nonce === left.nonce) {
      tries++;
      if (tries === 1) {
        await r.fetch(input, init);
        throw new TypeError("fetch failed");
      }
      if (tries <= DEFAULT_FLY_RETRY.attempts)
        return new Response(JSON.stringify({ error: "injected 503" }), {
          status: 503,
          headers: { "content-type": "application/json" },
        });
    }
    return r.fetch(input, init);
  };
  const d = restarted(flaky);
  const first = await r.run(
    d.stop(r.target({ lease: true })).then(
      () => null,
      (e: Error) => e,
    ),
  );
  expect(first?.message).toMatch(/503/);
  expect(r.fake.machines.get(MACHINE)!.lease!.nonce).toBe(left.nonce);
  await r.clock.advance(5_000);
  expect(await r.run(d.stop(r.target({ lease: true })))).toMatchObject({ status: "stopped" });
  expect(r.fake.machines.get(MACHINE)!.lease).toBeNull();
});

test("this server's own lease, whose answer and read-back were both lost, is taken up by its next command", async () => {
  r = await rig({ state: "stopped" });
  // The first POST .../lease is served, its answer lost; the retries meet 409, and every read
  // back (GET .../lease) fails.
  let lost = false;
  const flaky: typeof fetch = async (input, init) => {
    if (!lost && init?.method === "POST" && String(input).endsWith("/lease")) {
      lost = true;
      await r.fetch(input, init);
      throw new TypeError("fetch failed");
    }
    return r.fetch(input, init);
  };
  r.fake.faults.add({ action: "lease-show", status: 503, times: Infinity });
  const d = restarted(flaky);
  expect((await rejection(r.run(d.start(r.target({ lease: true }))))).retryable).toBe(true);
  r.fake.faults.clear();
  const stranded = r.fake.machines.get(MACHINE)!.lease!;
  expect(stranded.description).toMatch(/ for object obj-1$/);
  await r.clock.advance(10_000);
  // No command of this server holds it any more: the next one for obj-1 takes it up.
  expect(await r.run(d.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
  expect(r.fake.machines.get(MACHINE)!.lease).toBeNull();
});

test("a kept lease serves the next command under that command's description, so a restart finds its object", async () => {
  r = await rig({ state: "stopped" });
  // obj-1's start cannot release its lease (kept); obj-2, bound to the same machine, stops it
  // under that lease, and cannot release it either; then the server stops.
  r.fake.faults.add({ action: "lease-release", status: 503, times: 2 * DEFAULT_FLY_RETRY.attempts });
  await r.run(r.driver.start(r.target({ lease: true })));
  await r.run(r.driver.stop({ ...r.target({ lease: true }), objectId: "obj-2" }));
  expect(r.fake.machines.get(MACHINE)!.lease!.description).toMatch(/ for object obj-2$/);
  await r.clock.advance(60_000);
  // After the restart, obj-2's next command takes up the lease its last command left.
  const started = { ...r.target({ lease: true }), objectId: "obj-2" };
  expect(await r.run(restarted().start(started))).toMatchObject({ status: "running" });
});

test("two commands for one object at once: one renews the kept lease, the other meets it as held", async () => {
  r = await rig({ state: "stopped", fake: { transitionMs: { stop: 30_000, suspend: 10_000 } } });
  // The first renewal of the kept lease by its nonce meets Fly's rate limit (429, Retry-After
  // 20 s): meanwhile Fly still shows it under the last command's description.
  let kept: string | null = null;
  let limited = false;
  const flaky: typeof fetch = async (input, init) => {
    const nonce = new Headers(init?.headers).get(LEASE_NONCE_HEADER);
    if (!limited && kept && nonce === kept && init?.method === "POST" && String(input).endsWith("/lease")) {
      limited = true;
      return new Response(JSON.stringify({ error: "rate limited" }), {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": "20" },
      });
    }
    return r.fetch(input, init);
  };
  const d = restarted(flaky);
  r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  await r.run(d.start(r.target({ lease: true })));
  const lease = r.fake.machines.get(MACHINE)!.lease!;
  kept = lease.nonce;
  await r.clock.advance(5_000);
  r.fake.requests.length = 0;
  const { suspend, stop, holders } = await suspendAndStop(d, lease.nonce);
  expect(holders).toBe(1);
  expect([suspend.status, stop.status].sort()).toEqual(["fulfilled", "rejected"]);
});

test("a lease kept after another command met it, then taken up by that command as left, is not kept too", async () => {
  r = await rig({ state: "stopped", fake: { transitionMs: { stop: 30_000 } } });
  const d = restarted();
  // obj-1's start cannot release its lease (kept); obj-1's stop, begun while the start holds it,
  // reads it back only after the start ended, and takes it up as left; obj-2, bound to the same
  // machine, starts it while the stop holds the lease.
  r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  r.fake.faults.add({ action: "lease-show", delayMs: 20_000, times: 1 });
  const after = <T>(ms: number, f: () => Promise<T>) =>
    new Promise<void>((resolve) => r.clock.setTimeout(resolve, ms)).then(f);
  const [start, stop, other] = await r.run(
    Promise.allSettled([
      d.start(r.target({ lease: true })),
      after(1_000, () => d.stop(r.target({ lease: true }))),
      after(35_000, () => d.start({ ...r.target({ lease: true }), objectId: "obj-2" })),
    ]),
  );
  expect([start.status, stop.status]).toEqual(["fulfilled", "fulfilled"]);
  const q = r.fake.requests;
  const stopper = description(q.find((x) => x.action === "lease-acquire" && x.status === 409)!);
  const takeUp = q.find(
    (x) => x.action === "lease-acquire" && x.status === 200 && x.nonce && description(x) === stopper,
  )!;
  const released = q.find(
    (x) =>
      x.action === "lease-release" && x.status === 200 && x.nonce === takeUp.nonce && x.received >= takeUp.received,
  )!;
  // While the stop held it, no other command took the lease; obj-2's start met it as held.
  const others = q.filter(
    (x) =>
      x.action === "lease-acquire" &&
      x.status === 200 &&
      x.nonce === takeUp.nonce &&
      x.received >= takeUp.received &&
      x.received <= released.received &&
      description(x) !== stopper,
  );
  expect(others.map(description)).toEqual([]);
  expect(other.status).toBe("rejected");
});

test("a kept lease whose renewal landed but failed is kept under that command's description: one holder after", async () => {
  r = await rig({ state: "stopped", fake: { transitionMs: { stop: 30_000 } } });
  const d = restarted();
  const obj = (id: string) => ({ ...r.target({ lease: true }), objectId: id });
  // obj-1's start cannot release its lease: kept.
  r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  await r.run(d.start(obj("obj-1")));
  const lease = r.fake.machines.get(MACHINE)!.lease!.nonce;
  await r.clock.advance(5_000);
  // obj-1's suspend renews the kept lease: Fly applies it (now under the suspend's description),
  // the answer comes after the client's timeout, and the retries meet 503: the suspend fails.
  r.fake.faults.add({ action: "lease-acquire", delayMs: 31_000, times: 1 });
  r.fake.faults.add({ action: "lease-acquire", status: 503, times: DEFAULT_FLY_RETRY.attempts - 1 });
  expect(
    await r.run(
      d.suspend(obj("obj-1")).then(
        () => "",
        (e: Error) => e.message,
      ),
    ),
  ).toMatch(/503/);
  await r.clock.advance(5_000);
  // obj-2's start takes the kept lease (its renewal first meets a 429 with Retry-After 20 s); a
  // second later obj-1's stop meets the lease as held and reads it back under the suspend's
  // description: held, not left.
  r.fake.faults.add({ action: "lease-acquire", status: 429, retryAfterS: 20, times: 1 });
  r.fake.requests.length = 0;
  const after = <T>(ms: number, f: () => Promise<T>) =>
    new Promise<void>((resolve) => r.clock.setTimeout(resolve, ms)).then(f);
  const [start, stop] = await r.run(
    Promise.allSettled([d.start(obj("obj-2")), after(1_000, () => d.stop(obj("obj-1")))]),
  );
  const holds = r.fake.requests.filter((q) => q.action === "lease-acquire" && q.status === 200 && q.nonce === lease);
  expect(new Set(holds.map(description)).size).toBe(1);
  expect([start.status, stop.status]).toEqual(["fulfilled", "rejected"]);
});

test("a release that meets another lease (its own went through, the answer lost) keeps nothing over the kept one", async () => {
  r = await rig({ state: "stopped" });
  const target = (objectId: string) => ({ ...r.target({ lease: true }), objectId });
  const at = <T>(ms: number, f: () => Promise<T>) =>
    new Promise<void>((resolve) => r.clock.setTimeout(resolve, ms)).then(f).then(
      () => "ok",
      (e: Error) => e.message,
    );
  const d = r.driver;
  // obj-2's stop releases its lease; the DELETE goes through, its answer comes past the timeout.
  r.fake.faults.add({ action: "lease-release", delayMs: 31_000, times: 1 });
  const first = at(0, () => d.stop(target("obj-2")));
  // Meanwhile obj-1's stop takes a lease of its own and cannot release it (kept) ...
  const second = at(5_000, () => {
    r.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    return d.stop(target("obj-1"));
  });
  // ... and obj-1's next stop cannot renew the kept lease (503s Fly never applied): kept again.
  const third = at(15_000, () => {
    r.fake.faults.add({ action: "lease-acquire", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    return d.stop(target("obj-1"));
  });
  // obj-2's release retries then meet obj-1's lease (409): not obj-2's to keep.
  await r.run(Promise.all([first, second, third]));
  r.fake.faults.clear();
  await r.clock.advance(30_000);
  const left = r.fake.machines.get(MACHINE)!.lease!;
  expect(left.description).toMatch(/ for object obj-1$/);
  // obj-1's next command takes the kept lease up, long before it expires.
  expect(await r.run(d.start(target("obj-1")))).toMatchObject({ status: "running" });
  expect(r.clock.now()).toBeLessThan(left.expiresAt);
});
