// Fly states the driver meets besides the usual ones (fly.io/docs/machines/machine-states): `failed`
// (could not start; it stays until someone acts) and `destroyed`, and a lease that must last the
// whole command, however long the machine takes to settle.
import { afterEach, describe, expect, test } from "vitest";
import { MACHINE, rig, settle, type Rig } from "./rig.ts";

let r: Rig;
const open = async (o?: Parameters<typeof rig>[0]) => (r = await rig(o));
afterEach(async () => {
  await r.close();
});

describe("Fly's persistent `failed` state (fly.io/docs/machines/machine-states: 'failed: could not start successfully')", () => {
  test("observe reports a failed machine as not running (stopped), not `unknown`", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.state = "failed";
    const o = await r.run(driver.observe(r.target()));
    // `unknown` makes reconciliation ignore it (observedState(unknown) === null): an active
    // object whose machine failed stays `active` for ever.
    expect(o.status).toBe("stopped");
  });

  test("stop (dormancy, release) of a failed machine succeeds: nothing runs there", async () => {
    const { driver, fake } = await open();
    fake.machines.get(MACHINE)!.state = "failed";
    const res = await settle(r.run(driver.stop(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped" } });
  });

  test("start of a failed machine sends POST .../start (failed is persistent: Fly waits for an action)", async () => {
    const { driver, fake } = await open();
    fake.machines.get(MACHINE)!.state = "failed";
    await settle(r.run(driver.start(r.target())));
    expect(fake.requests.map((q) => q.action)).toContain("start");
  });
});

describe("a destroyed machine is stopped: stop, suspend and release of it are done", () => {
  test("stop of a destroyed machine resolves as stopped", async () => {
    const { driver } = await open({ state: "destroyed" });
    expect((await r.run(driver.observe(r.target()))).status).toBe("stopped");
    const res = await settle(r.run(driver.stop(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped" } });
  });

  test("suspend of a destroyed machine resolves as stopped, like suspend of a stopped one", async () => {
    const { driver } = await open({ state: "destroyed" });
    const res = await settle(r.run(driver.suspend(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped" } });
  });

  test("release(stop) of a destroyed machine resolves (else DELETE/rebind of its object is a 503 for ever)", async () => {
    const { driver } = await open({ state: "destroyed" });
    const res = await settle(r.run(driver.release!(r.target(), "stop")));
    expect(res, JSON.stringify(res)).toEqual({ ok: true, v: undefined });
  });
});

describe("a host Fly cannot reach (host_status `unreachable`: 'the information returned is incomplete')", () => {
  test("observe reports the machine unknown, not the last state Fly knew", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "unreachable";
    const o = await r.run(driver.observe(r.target()));
    expect(o).toMatchObject({ status: "unknown", state: "started" });
  });

  test("a start that reads it `started` is not done: a retryable failure that says why", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "unreachable";
    const res = await settle(r.run(driver.start(r.target())));
    expect(res).toMatchObject({ ok: false, retryable: true });
    expect(res.ok ? "" : res.e).toMatch(/host is unreachable/);
    expect(fake.requests.map((q) => q.action)).not.toContain("start");
  });

  test.each([
    [
      "release (a DELETE's stop)",
      "started",
      (t: ReturnType<Rig["target"]>): Promise<unknown> => r.driver.release!(t, "stop"),
    ],
    ["suspend", "started", (t: ReturnType<Rig["target"]>) => r.driver.suspend(t)],
    ["start", "stopped", (t: ReturnType<Rig["target"]>) => r.driver.start(t)],
  ] as const)(
    "a %s of a machine Fly last knew %s is not sent: a retryable failure at once, saying the host is unreachable",
    async (_, state, call) => {
      const { fake } = await open({ state });
      fake.machines.get(MACHINE)!.hostStatus = "unreachable";
      const res = await settle(r.run(call(r.target())));
      expect(res).toMatchObject({ ok: false, retryable: true });
      expect(res.ok ? "" : res.e).toMatch(
        /host is unreachable \(Fly's host_status\), so it cannot \w+ the machine \(last known \w+\)/,
      );
      // Read once, and nothing sent: Fly would refuse each of 5 tries (503) after their backoff.
      expect(fake.requests.map((q) => q.action)).toEqual(["get"]);
      expect(fake.machines.get(MACHINE)!.state).toBe(state);
    },
  );

  test("control: on a host Fly reaches, a started machine is running, and a start of it is done", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "ok";
    expect((await r.run(driver.observe(r.target()))).status).toBe("running");
    expect(await settle(r.run(driver.start(r.target())))).toMatchObject({ ok: true, v: { status: "running" } });
  });

  test("a machine Fly last knew stopped, or destroying (as it marks those of a dead host), is still stopped", async () => {
    const { driver, fake } = await open({ state: "stopped" });
    fake.machines.get(MACHINE)!.hostStatus = "unreachable";
    expect((await r.run(driver.observe(r.target()))).status).toBe("stopped");
    expect(await settle(r.run(driver.stop(r.target())))).toMatchObject({ ok: true, v: { status: "stopped" } });
    fake.machines.get(MACHINE)!.state = "destroying";
    expect(await settle(r.run(driver.release!(r.target(), "stop")))).toEqual({ ok: true, v: undefined });
  });

  // Fly answers the last state it knew, which no wait moves while it cannot reach the host: the
  // observation is unknown at once, as every reconciliation pass would find it after a 10 s wait.
  test.each(["starting", "stopping", "suspending", "restarting"] as const)(
    "observe of a machine Fly last knew %s is unknown at once, without a wait",
    async (state) => {
      const { driver, fake } = await open({ state: "started" });
      const m = fake.machines.get(MACHINE)!;
      m.hostStatus = "unreachable";
      m.state = state;
      const t0 = r.clock.now();
      expect((await r.run(driver.observe(r.target()))).status).toBe("unknown");
      expect(fake.requests.map((q) => q.action)).toEqual(["get"]);
      expect(r.clock.now() - t0).toBeLessThan(1_000);
    },
  );

  test.each([
    [
      "release (a DELETE's stop)",
      "starting",
      (t: ReturnType<Rig["target"]>): Promise<unknown> => r.driver.release!(t, "stop"),
    ],
    ["stop", "suspending", (t: ReturnType<Rig["target"]>) => r.driver.stop(t)],
    ["start", "stopping", (t: ReturnType<Rig["target"]>) => r.driver.start(t)],
  ] as const)(
    "a %s of a machine Fly last knew %s is not waited on: a retryable failure at once, saying the host is unreachable",
    async (_, state, call) => {
      const { fake } = await open({ state: "started" });
      const m = fake.machines.get(MACHINE)!;
      m.hostStatus = "unreachable";
      m.state = state;
      const t0 = r.clock.now();
      const res = await settle(r.run(call(r.target())));
      expect(res).toMatchObject({ ok: false, retryable: true });
      expect(res.ok ? "" : res.e).toMatch(
        new RegExp(
          `host is unreachable \\(Fly's host_status\\), so it cannot \\w+ the machine \\(last known ${state}\\)`,
        ),
      );
      // Read once: no wait (five of 60 s, a DELETE held for 300 s) for a state Fly cannot see change.
      expect(fake.requests.map((q) => q.action)).toEqual(["get"]);
      expect(r.clock.now() - t0).toBeLessThan(1_000);
    },
  );
});

describe("a host whose status Fly does not know (host_status `unknown`): `started` is not confirmed", () => {
  test("observe reports the machine unknown, not running", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "unknown";
    expect(await r.run(driver.observe(r.target()))).toMatchObject({ status: "unknown", state: "started" });
  });

  test("a start that reads it `started` is not done: a retryable failure that says why", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "unknown";
    const res = await settle(r.run(driver.start(r.target())));
    expect(res).toEqual({ ok: false, e: expect.stringMatching(/host_status unknown/), retryable: true });
  });

  test("commands are still sent (Fly answers for them): a stop of it stops it", async () => {
    const { driver, fake } = await open({ state: "started" });
    fake.machines.get(MACHINE)!.hostStatus = "unknown";
    expect(await settle(r.run(driver.stop(r.target())))).toMatchObject({ ok: true, v: { status: "stopped" } });
    expect(fake.machines.get(MACHINE)!.state).toBe("stopped");
  });
});

describe("lease: 'holds a machine lease ... so that no other client changes the machine mid-way' (docs/substrates.md)", () => {
  test("the lease outlives the command it guards", async () => {
    const { driver, fake, clock } = await open({ state: "started" });
    // The machine is on its way down (someone stopped it), slowly; then the start is slow too.
    fake.transitionMs.stop = 200_000;
    const kick = await fetch(`${fake.url}/v1/apps/${fake.app}/machines/${MACHINE}/stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}` },
    });
    expect(kick.status).toBe(200);
    fake.transitionMs.start = 200_000;
    const samples: { at: number; vigilHolds: boolean; done: boolean }[] = [];
    let done = false;
    for (const s of [100, 250, 370, 390])
      clock.setTimeout(() => {
        const m = fake.machines.get(MACHINE)!;
        samples.push({ at: s, vigilHolds: !!m.lease && m.lease.expiresAt > clock.now(), done });
      }, s * 1000);
    const call = driver.start(r.target({ lease: true }));
    void call.then(
      () => (done = true),
      () => (done = true),
    );
    expect((await r.run(call)).status).toBe("running");
    expect(fake.requests.find((q) => q.action === "lease-acquire")!.body).toMatchObject({ ttl: 360 });
    // While the command is still in progress, the lease must be held.
    const during = samples.filter((s) => !s.done);
    expect(during.map((s) => s.at)).toEqual([100, 250, 370, 390]);
    expect(
      during.every((s) => s.vigilHolds),
      JSON.stringify(during),
    ).toBe(true);
  });
});

/**
 * Someone stopped the machine, slowly, and Fly's wait fails twice after 40 s (the client
 * retries): settling takes longer than a lease of 180 s (two waits of 60 s and a minute), so the
 * renewal finds it gone.
 */
async function settlingOutlastsLease(): Promise<void> {
  const { fake } = r;
  fake.transitionMs.stop = 200_000;
  const kick = await fetch(`${fake.url}/v1/apps/${fake.app}/machines/${MACHINE}/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${fake.token}` },
  });
  expect(kick.status).toBe(200);
  fake.faults.add({ action: "wait", status: 503, delayMs: 40_000, times: 2 });
}

test("a lease that expired during a long phase: the renewal's new nonce is the one the command and the release send", async () => {
  const { driver, fake } = await open({ state: "started", driver: { waitTimeoutS: 60, maxWaits: 2 } });
  await settlingOutlastsLease();
  const res = await settle(r.run(driver.start(r.target({ lease: true }))));
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
  // Nothing of Vigil's holds the machine afterwards.
  const m = fake.machines.get(MACHINE)!;
  expect(m.lease && m.lease.expiresAt > r.clock.now() ? m.lease : null).toBeNull();
});

test("a renewal of an expired lease whose answer is lost: the command still succeeds and leaves no lease of Vigil's held", async () => {
  const { driver, fake, clock } = await open({ state: "started", driver: { waitTimeoutS: 60, maxWaits: 2 } });
  await settlingOutlastsLease();
  // After the lease is taken, the next lease POST (the renewal) takes effect, but its answer
  // comes after the client's 30 s timeout: its retries meet the new lease (409), read it back,
  // and know it by its description.
  clock.setTimeout(() => fake.faults.add({ action: "lease-acquire", delayMs: 40_000, times: 1 }), 10_000);
  const res = await settle(r.run(driver.start(r.target({ lease: true }))));
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
  const m = fake.machines.get(MACHINE)!;
  expect(m.lease && m.lease.expiresAt > clock.now() ? m.lease : null).toBeNull();
});
