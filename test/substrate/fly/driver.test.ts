// The fly driver over real HTTP against the local Fly fake (fake.ts), both on one virtual
// clock (rig.ts): the shared driver contract, then faults, rate limits, waits, leases and
// refusals.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { RECONCILE_DEADLINE_MS } from "../../../src/governor/substrate-sync.ts";
import { FlyDriver } from "../../../src/substrate/fly/driver.ts";
import { goDurationMs } from "../../../src/substrate/fly/config.ts";
import { RateLimiter } from "../../../src/substrate/fly/rate-limit.ts";
import { DEFAULT_FLY_RETRY, parseRetryAfter, retryDelayMs } from "../../../src/substrate/fly/retry.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { runDriverContract } from "../contract.ts";
import { startFlyFake, type FlyFake } from "./fake.ts";
import { DEFAULT_SPEC_PATH, SHARED_SPEC_PATH } from "./openapi.ts";
import { MACHINE, rejection, rig, settle, T0, type Rig } from "./rig.ts";

runDriverContract("fly", async () => {
  const r = await rig();
  return {
    driver: r.driver,
    target: r.target(),
    invalidConfigs: [
      [{ app: "Not_An_App", machineId: MACHINE }, "$.app"],
      [{ app: "vigil" }, "$.machineId"],
      [{ app: "vigil", machineId: "../../apps" }, "$.machineId"],
      [{ app: "vigil", machineId: MACHINE, apiUrl: "not a url" }, "$.apiUrl"],
      [{ app: "vigil", machineId: MACHINE, apiUrl: "ftp://api.machines.dev" }, "$.apiUrl"],
      [{ app: "vigil", machineId: MACHINE, stopTimeout: "soon" }, "$.stopTimeout"],
      // Past an int64 of nanoseconds: Go's time.ParseDuration, which Fly parses it with, refuses it.
      [{ app: "vigil", machineId: MACHINE, stopTimeout: "2562048h" }, "$.stopTimeout"],
      [{ app: "vigil", machineId: MACHINE, stopTimeout: "2562047h47m16.854775808s" }, "$.stopTimeout"],
      [{ app: "vigil", machineId: MACHINE, stopTimeout: "9223372036854775808ns" }, "$.stopTimeout"],
      // Exactly 1<<63 - 1 ns, but Go scales a fraction in float64: 1<<63 ns to Go, which refuses it.
      [{ app: "vigil", machineId: MACHINE, stopTimeout: "2562047.7880152155022222h" }, "$.stopTimeout"],
      [{ app: "vigil", machineId: MACHINE, stopSignal: "SIGWINCH" }, "$.stopSignal"],
      [{ app: "vigil", machineId: MACHINE, lease: "yes" }, "$.lease"],
      [{ app: "vigil", machineId: MACHINE, region: "ams" }, "$.region"],
    ],
    run: r.run,
    cleanup: async () => {
      await r.close();
      expect(r.fake.violations).toEqual([]);
      expect(r.fake.selfViolations).toEqual([]);
    },
  };
});

describe("fly driver against the fake", () => {
  let r: Rig;
  const open = async (options?: Parameters<typeof rig>[0]) => (r = await rig(options));
  afterEach(async () => {
    await r.close();
    expect(r.fake.violations, "every request the driver made follows the spec").toEqual([]);
    expect(r.fake.selfViolations).toEqual([]);
  });

  test("converges through injected 503s, 429s and 412s", async () => {
    const { fake, driver } = await open();
    fake.faults
      .add({ action: "get", status: 503, times: 2 })
      .add({ action: "start", status: 412, times: 2, error: "unable to start machine from current state: 'created'" })
      .add({ action: "start", status: 503 })
      .add({ action: "wait", status: 429, retryAfterS: 2 })
      .add({ action: "wait", status: 502 })
      .add({ action: "suspend", status: 503, times: 2 })
      .add({ action: "stop", status: 429 });
    expect((await r.run(driver.start(r.target()))).status).toBe("running");
    expect((await r.run(driver.suspend(r.target()))).status).toBe("suspended");
    expect((await r.run(driver.stop(r.target()))).status).toBe("stopped");
    expect(fake.faults.injected).toBe(10);
    expect(fake.machines.get(MACHINE)!.state).toBe("stopped");
    const statuses = new Set(fake.requests.map((q) => q.status));
    for (const s of [412, 429, 502, 503]) expect(statuses).toContain(s);
  });

  test("converges with random 503s and 429s on every route", async () => {
    const { fake, driver } = await open();
    fake.faults.add({ status: 503, probability: 0.2 }).add({ status: 429, probability: 0.1, retryAfterS: 1 });
    for (let round = 0; round < 3; round++) {
      expect((await r.run(driver.start(r.target()))).status).toBe("running");
      expect((await r.run(driver.suspend(r.target()))).status).toBe("suspended");
      expect((await r.run(driver.start(r.target()))).status).toBe("running");
      expect((await r.run(driver.stop(r.target()))).status).toBe("stopped");
    }
    expect(fake.faults.injected).toBeGreaterThan(5);
  });

  test("a machine being replaced is read again after a backoff until it can start", async () => {
    const { fake, driver } = await open();
    fake.replace(MACHINE, 3_000);
    const o = await r.run(driver.start(r.target()));
    expect(o).toMatchObject({ status: "running", state: "started", machineId: MACHINE });
    expect(fake.requests.filter((q) => q.action === "get").length).toBeGreaterThan(1);
  });

  test("a created machine starts; stopping one is already done", async () => {
    const { driver } = await open({ state: "created" });
    expect(await r.run(driver.stop(r.target()))).toMatchObject({ status: "stopped", state: "created" });
    expect((await r.run(driver.start(r.target()))).status).toBe("running");
  });

  test("honours Retry-After on a 429", async () => {
    const { fake, driver } = await open();
    fake.faults.add({ action: "start", status: 429, retryAfterS: 7 });
    await r.run(driver.start(r.target()));
    const starts = fake.requests.filter((q) => q.action === "start");
    expect(starts.map((q) => q.status)).toEqual([429, 200]);
    expect(starts[1]!.at - starts[0]!.at).toBeGreaterThanOrEqual(7_000);
  });

  test("waits again after a 408 until the machine gets there", async () => {
    const { fake, driver } = await open();
    fake.transitionMs.start = 150_000;
    const o = await r.run(driver.start(r.target()));
    expect(o.status).toBe("running");
    const waits = fake.requests.filter((q) => q.action === "wait");
    expect(waits.map((q) => q.status)).toEqual([408, 408, 200]);
    for (const w of waits)
      expect(w.query).toEqual({
        state: "started",
        timeout: "60",
        instance_id: fake.machines.get(MACHINE)!.instanceId,
      });
    expect(waits[1]!.at - waits[0]!.at).toBe(60_000);
  });

  test("gives up on a state after its waits, retryably", async () => {
    const { fake, driver } = await open({ driver: { waitTimeoutS: 10, maxWaits: 2 } });
    fake.transitionMs.start = 600_000;
    const e = await rejection(r.run(driver.start(r.target())));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/did not reach started within 20 s/);
    expect(fake.requests.filter((q) => q.action === "wait").every((q) => q.query.timeout === "10")).toBe(true);
  });

  test("polls Get Machine when Fly will not wait", async () => {
    const { fake, driver } = await open();
    fake.transitionMs.start = 3_000;
    fake.faults.add({ action: "wait", status: 400, error: "instance_id does not match" });
    expect((await r.run(driver.start(r.target()))).status).toBe("running");
    const polls = fake.requests.filter((q) => q.action === "get").slice(1);
    expect(polls.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < polls.length; i++) expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(1_000);
  });

  test("observe waits once for a machine in motion, else reports unknown", async () => {
    const { fake, driver } = await open({ driver: { waitTimeoutS: 5 } });
    fake.transitionMs.start = 2_000;
    const kick = await fetch(`${fake.url}/v1/apps/${fake.app}/machines/${MACHINE}/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}` },
    });
    expect(kick.status).toBe(200);
    expect(await r.run(driver.observe(r.target()))).toMatchObject({ status: "running", state: "started" });
    fake.addMachine("stuck0000000001", "starting");
    const stuck = await r.run(driver.observe(r.target({ machineId: "stuck0000000001" })));
    expect(stuck).toMatchObject({ status: "unknown", state: "starting", machineId: "stuck0000000001" });
  });

  test("an observe of a machine while one is under way shares it: slow reads do not pile up across passes", async () => {
    const { fake, driver } = await open({ state: "started" });
    // Every read is answered after the client's 30 s timeout: an observe takes 5 tries and backoff.
    fake.faults.add({ action: "get", delayMs: 40_000, times: Infinity });
    const first = settle(driver.observe(r.target()));
    // Reconciliation gives up on an observe after RECONCILE_DEADLINE_MS and observes again next pass.
    await r.run(new Promise<void>((resolve) => r.clock.setTimeout(resolve, RECONCILE_DEADLINE_MS)));
    const second = settle(driver.observe(r.target()));
    const [a, b] = await r.run(Promise.all([first, second]));
    expect(a).toMatchObject({ ok: false, retryable: true });
    expect(b).toEqual(a);
    // One observe's reads, one at a time: the second sent none of its own.
    const gets = fake.requests.filter((q) => q.action === "get");
    expect(gets).toHaveLength(DEFAULT_FLY_RETRY.attempts);
    for (let i = 1; i < gets.length; i++) expect(gets[i]!.received).toBeGreaterThanOrEqual(gets[i - 1]!.at);
  });

  test("an observe every asker gave up on stops: no more tries, the read in flight cut", async () => {
    const { fake, driver } = await open({ state: "started" });
    fake.faults.add({ action: "get", delayMs: 40_000, times: Infinity });
    // Reconciliation's deadline, as substrate-sync.ts aborts it.
    const deadline = new AbortController();
    r.clock.setTimeout(() => deadline.abort(), RECONCILE_DEADLINE_MS);
    const t0 = r.clock.now();
    const seen = await r.run(settle(driver.observe(r.target(), deadline.signal)));
    expect(seen).toMatchObject({ ok: false, retryable: true });
    // Given up at the deadline, not after 5 tries of 30 s and their backoff.
    expect(r.clock.now() - t0).toBeLessThan(RECONCILE_DEADLINE_MS + 1_000);
    const gets = fake.requests.filter((q) => q.action === "get");
    expect(gets.length).toBeLessThan(DEFAULT_FLY_RETRY.attempts);
    for (const q of gets) expect(q.received).toBeLessThan(t0 + RECONCILE_DEADLINE_MS);
    expect(gets.at(-1)!.aborted).toBe(true);
  });

  test("a shared observe goes on while one of its askers still waits", async () => {
    const { fake, driver } = await open({ state: "started" });
    fake.faults.add({ action: "get", delayMs: 40_000, times: Infinity });
    const gaveUp = new AbortController();
    r.clock.setTimeout(() => gaveUp.abort(), RECONCILE_DEADLINE_MS);
    const first = settle(driver.observe(r.target(), gaveUp.signal));
    const second = settle(driver.observe(r.target()));
    const [a, b] = await r.run(Promise.all([first, second]));
    expect(b).toEqual(a);
    expect(fake.requests.filter((q) => q.action === "get")).toHaveLength(DEFAULT_FLY_RETRY.attempts);
  });

  test("observation fields", async () => {
    const { fake, driver } = await open();
    const o = await r.run(driver.start(r.target()));
    expect(o).toEqual({
      status: "running",
      at: T0 + 300,
      machineId: MACHINE,
      state: "started",
      instanceId: fake.machines.get(MACHINE)!.instanceId,
    });
  });

  test("stop sends the configured signal and timeout", async () => {
    const { fake, driver } = await open({ state: "started" });
    await r.run(driver.stop(r.target({ stopSignal: "SIGTERM", stopTimeout: "30s" })));
    expect(fake.machines.get(MACHINE)!.lastStop).toEqual({ signal: "SIGTERM", timeout: "30s" });
  });

  test.each(["SIGUSR2", "SIGSTOP"])(
    "a stop signal Fly takes as an app's kill_signal (%s), though the /signal endpoint's list lacks it, is taken and sent",
    async (stopSignal) => {
      const { fake, driver } = await open({ state: "started" });
      expect(driver.validateConfig({ app: fake.app, machineId: MACHINE, apiUrl: fake.url, stopSignal })).toEqual([]);
      await r.run(driver.stop(r.target({ stopSignal })));
      expect(fake.machines.get(MACHINE)!.lastStop).toEqual({ signal: stopSignal });
    },
  );

  test("a stop timeout up to Go's limit (an int64 of nanoseconds) is taken, and sent as written", async () => {
    const { fake, driver } = await open({ state: "started" });
    for (const stopTimeout of ["2562047h47m16.854775807s", "9223372036854775807ns", "1.5h", "0.000000001s"])
      expect(
        driver.validateConfig({ app: fake.app, machineId: MACHINE, apiUrl: fake.url, stopTimeout }),
        stopTimeout,
      ).toEqual([]);
    await r.run(driver.stop(r.target({ stopTimeout: "2562047h" })));
    expect(fake.machines.get(MACHINE)!.lastStop).toEqual({ timeout: "2562047h" });
  });

  test("Go's other spellings of a duration (.5s, 1.s, a bare 0, μs with the Greek mu) are taken, and sent as written", async () => {
    const { fake, driver } = await open({ state: "started" });
    const valid = (stopTimeout: string) =>
      driver.validateConfig({ app: fake.app, machineId: MACHINE, apiUrl: fake.url, stopTimeout });
    // Each is one time.ParseDuration takes, so Fly would; the grace waited out reads them alike.
    const ms = { ".5s": 500, "1.s": 1_000, "0": 0, "1.5m.5s": 90_500, "3μs": 0.003, "3µs": 0.003 };
    for (const [stopTimeout, grace] of Object.entries(ms)) {
      expect(valid(stopTimeout), stopTimeout).toEqual([]);
      expect(goDurationMs(stopTimeout), stopTimeout).toBeCloseTo(grace, 9);
    }
    // Not Go durations (no digits around the point, no unit but on 0), or signed, as before.
    for (const stopTimeout of [".s", "1", "00", "-5s", "+5s", "s", ""])
      expect(valid(stopTimeout), stopTimeout).toMatchObject([{ path: "$.stopTimeout" }]);
    await r.run(driver.stop(r.target({ stopTimeout: ".5s" })));
    expect(fake.machines.get(MACHINE)!.lastStop).toEqual({ timeout: ".5s" });
  });

  test("without stop settings the stop has no body", async () => {
    const { fake, driver } = await open({ state: "started" });
    await r.run(driver.stop(r.target()));
    expect(fake.requests.find((q) => q.action === "stop")!.body).toBeUndefined();
  });

  test("suspending a stopped machine leaves it stopped and sends nothing", async () => {
    const { fake, driver } = await open();
    expect(await r.run(driver.suspend(r.target()))).toMatchObject({ status: "stopped", state: "stopped" });
    expect(fake.requests.map((q) => q.action)).toEqual(["get"]);
  });

  test("leases: acquired, nonce on the command, released after", async () => {
    const { fake, driver } = await open();
    await r.run(driver.start(r.target({ lease: true })));
    const seq = fake.requests.map((q) => q.action);
    expect(seq[0]).toBe("lease-acquire");
    expect(seq.at(-1)).toBe("lease-release");
    // Taken once: not renewed right after, before the start request, with a whole phase left.
    expect(seq.filter((a) => a === "lease-acquire")).toHaveLength(1);
    const acquire = fake.requests[0]!;
    expect(acquire.body).toEqual({
      ttl: 360,
      description: expect.stringMatching(/^vigil lifecycle governor \([0-9a-f]+-[0-9a-f]+\) for object obj-1$/),
    });
    const start = fake.requests.find((q) => q.action === "start")!;
    const release = fake.requests.at(-1)!;
    expect(start.nonce).toMatch(/^[0-9a-f]{12}$/);
    expect(release.nonce).toBe(start.nonce);
    expect(release.status).toBe(200);
    expect(fake.machines.get(MACHINE)!.lease).toBeNull();
  });

  test("a lease taken by a POST whose answer was lost is recognised as its own, and the command goes on", async () => {
    const { fake, driver } = await open();
    // Served (the lease is taken), answered after every client timeout: no answer in time.
    fake.faults.add({ action: "lease-acquire", delayMs: 120_000 });
    expect(await r.run(driver.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
    const seq = fake.requests.map((q) => q.action);
    expect(seq.filter((a) => a === "lease-acquire").length).toBeGreaterThanOrEqual(2);
    expect(seq).toContain("lease-show");
    expect(seq).toContain("start");
    expect(seq.at(-1)).toBe("lease-release");
    expect(fake.machines.get(MACHINE)!.lease).toBeNull();
  });

  test("a lease POST whose answer was lost is read back at its first 409, not tried again four times", async () => {
    const { fake, driver } = await open();
    // Served (the lease is taken), answered after the client's 30 s timeout: no answer in time.
    fake.faults.add({ action: "lease-acquire", delayMs: 40_000, times: 1 });
    const t0 = r.clock.now();
    expect(await r.run(driver.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
    const seq = fake.requests.map((q) => [q.action, q.status]);
    // The lost answer, its retry's 409, the lease read back (this command's), and on with it.
    expect(seq.slice(0, 4)).toEqual([
      ["lease-acquire", 200],
      ["lease-acquire", 409],
      ["lease-show", 200],
      ["get", 200],
    ]);
    // The 30 s timeout, one backoff (at most 0.5 s) and the start's 300 ms boot.
    expect(r.clock.now() - t0).toBeLessThan(32_000);
    expect(fake.machines.get(MACHINE)!.lease).toBeNull();
  });

  test("a lease whose release failed is taken up again by the next command, not met as another holder's", async () => {
    const { fake, driver } = await open({ state: "stopped" });
    fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    expect(await r.run(driver.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
    const left = fake.machines.get(MACHINE)!.lease;
    expect(left).not.toBeNull(); // Vigil's own, until its ttl
    await r.clock.advance(60_000);
    fake.requests.length = 0;
    expect(await r.run(driver.stop(r.target({ lease: true })))).toMatchObject({ status: "stopped" });
    const acquire = fake.requests.find((q) => q.action === "lease-acquire")!;
    expect(acquire.nonce).toBe(left!.nonce);
    expect(fake.machines.get(MACHINE)!.state).toBe("stopped");
    expect(fake.machines.get(MACHINE)!.lease).toBeNull(); // released this time
  });

  // Only Fly's own 404 says the lease is not there (none is, or the machine is gone): a 404 that
  // is not Fly's answer for the machine (a wrong base URL's page, `app not found`, another JSON
  // server's `{"error":"Not Found"}`, which names neither the machine nor a lease) says nothing
  // of it, and the lease, still Vigil's on Fly, is taken up by the next command as after a 503.
  test.each([
    ["a page that is not Fly's", { rawBody: "404 page not found\n" }, true],
    ["Fly's app not found", { error: "app vigil-test not found" }, true],
    ["another JSON server's", { error: "Not Found" }, true],
    ["another JSON server's, naming neither machine nor lease", { error: "resource not found" }, true],
    // The words of a path it quotes (`/machines/`, `/lease`) are not Fly's words on the machine.
    [
      "another JSON server's, quoting the path",
      { error: `no route for DELETE /v1/apps/vigil-test/machines/${MACHINE}/lease` },
      true,
    ],
    [
      "another JSON server's, quoting the path not found",
      { error: `/v1/apps/vigil-test/machines/${MACHINE}/lease not found` },
      true,
    ],
    ["control: Fly's answer that the machine is gone", { error: "machine e2865 not found" }, false],
    ["control: Fly's answer that there is no lease", { error: "no lease to release" }, false],
  ])(
    "a lease whose release met a 404 (%s) is taken up by the next command only when Fly did not say it is gone",
    async (_, answer, kept) => {
      const { fake, driver } = await open({ state: "stopped" });
      fake.faults.add({ action: "lease-release", status: 404, ...answer });
      expect(await r.run(driver.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
      const left = fake.machines.get(MACHINE)!.lease!;
      // For the control, the lease goes as Fly said it had.
      if (!kept) fake.machines.get(MACHINE)!.lease = null;
      fake.requests.length = 0;
      expect(await r.run(driver.stop(r.target({ lease: true })))).toMatchObject({ status: "stopped" });
      const acquires = fake.requests.filter((q) => q.action === "lease-acquire").map((q) => [q.nonce, q.status]);
      expect(acquires).toEqual([[kept ? left.nonce : null, 200]]);
    },
  );

  test("a remembered lease is kept when the next command's lease call fails on a passing error", async () => {
    const { fake, driver } = await open({ state: "stopped" });
    fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    await r.run(driver.start(r.target({ lease: true })));
    const left = fake.machines.get(MACHINE)!.lease!;
    fake.faults.add({ action: "lease-acquire", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    expect((await rejection(r.run(driver.stop(r.target({ lease: true }))))).retryable).toBe(true);
    // A command without a lease on the machine meanwhile leaves it remembered too.
    await r.run(driver.observe(r.target()));
    fake.requests.length = 0;
    expect(await r.run(driver.stop(r.target({ lease: true })))).toMatchObject({ status: "stopped" });
    expect(fake.requests.find((q) => q.action === "lease-acquire")!.nonce).toBe(left.nonce);
  });

  test("a remembered lease is taken up by one of two commands on the machine at once; the other meets it (409)", async () => {
    const { fake, driver } = await open({ state: "stopped" });
    fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
    await r.run(driver.start(r.target({ lease: true })));
    const left = fake.machines.get(MACHINE)!.lease!;
    fake.requests.length = 0;
    await r.run(
      Promise.allSettled([driver.suspend(r.target({ lease: true })), driver.stop(r.target({ lease: true }))]),
    );
    const [first, second] = fake.requests.filter((q) => q.action === "lease-acquire");
    expect([first!, second!].filter((q) => q.nonce === left.nonce && q.status === 200)).toHaveLength(1);
  });

  test("useLeases applies to configs that do not say", async () => {
    const { fake, driver } = await open({ driver: { useLeases: true } });
    await r.run(driver.start(r.target()));
    expect(fake.requests[0]!.action).toBe("lease-acquire");
    fake.requests.length = 0;
    await r.run(driver.stop(r.target({ lease: false })));
    expect(fake.requests.some((q) => q.action?.startsWith("lease"))).toBe(false);
  });

  test("a lease held elsewhere is a retryable failure and nothing is sent", async () => {
    const { fake, driver } = await open();
    fake.holdLease(MACHINE, 3_600);
    const e = await rejection(r.run(driver.start(r.target({ lease: true }))));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/409 lease currently held/);
    // Whose it is, as read back: owner, description and how long it has left; not its nonce.
    expect(e.message).toMatch(
      /the lease read back: owner someone-else@example\.com, description "held by a test", expires in 3600 s/,
    );
    expect(e.message).not.toContain(fake.machines.get(MACHINE)!.lease!.nonce);
    // The lease read back once, at the first 409 (not this attempt's), and tried again: a 409 after a 409 took nothing.
    const seq = fake.requests.map((q) => q.action);
    expect(seq.filter((a) => a !== "lease-acquire")).toEqual(["lease-show"]);
    expect(seq.filter((a) => a === "lease-acquire")).toHaveLength(DEFAULT_FLY_RETRY.attempts);
    expect(fake.machines.get(MACHINE)!.state).toBe("stopped");
  });

  test("a 409 after a try that got no answer (which may have taken the lease) is read back again", async () => {
    const { fake, driver } = await open();
    // Another's lease for 0.2 s: the first try meets it and reads it back.
    fake.holdLease(MACHINE, 0.2);
    // Once that is done, the next POST takes the lease (it has expired) but its answer is lost.
    r.clock.setTimeout(() => fake.faults.add({ action: "lease-acquire", delayMs: 40_000, times: 1 }), 100);
    expect(await r.run(driver.start(r.target({ lease: true })))).toMatchObject({ status: "running" });
    const seq = fake.requests.filter((q) => q.action?.startsWith("lease")).map((q) => [q.action, q.status]);
    expect(seq).toEqual([
      ["lease-acquire", 409],
      ["lease-show", 200],
      ["lease-acquire", 200],
      ["lease-acquire", 409],
      ["lease-show", 200],
      ["lease-release", 200],
    ]);
  });

  test("without a lease of its own, a command on a leased machine is refused", async () => {
    const { fake, driver } = await open({ driver: { retry: { attempts: 2 } } });
    fake.holdLease(MACHINE, 3_600);
    const e = await rejection(r.run(driver.start(r.target())));
    expect(e.message).toMatch(/409 machine .* is leased/);
  });

  test("a command refused 409 (the machine leased elsewhere, no lease of Vigil's) is tried 5 times, then retryable", async () => {
    const { fake, driver } = await open({ state: "started" });
    fake.holdLease(MACHINE, 3_600);
    const e = await rejection(r.run(driver.stop(r.target())));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/409 machine .* is leased.*\(after 5 tries\)/);
    const stops = fake.requests.filter((q) => q.action === "stop");
    expect(stops.map((q) => q.status)).toEqual(Array(DEFAULT_FLY_RETRY.attempts).fill(409));
    expect(fake.machines.get(MACHINE)!.state).toBe("started");
  });

  describe("rate limits", () => {
    const burst = async (rateLimit: boolean) => {
      const { fake, driver } = await open({ driver: { rateLimit } });
      const results = await r.run(Promise.all(Array.from({ length: 6 }, () => driver.start(r.target()))));
      expect(results.map((o) => o.status)).toEqual(Array(6).fill("running"));
      return fake;
    };

    test("the client keeps within Fly's limits: no 429 from the fake", async () => {
      const fake = await burst(true);
      expect(fake.rateLimited).toBe(0);
      // More than a burst went out on some action, spaced by the client: at most 3 at once.
      const commands = fake.requests.filter((q) => q.action !== "get");
      const actions = new Set(commands.map((q) => q.action));
      const counts = [...actions].map((a) => commands.filter((q) => q.action === a));
      expect(Math.max(...counts.map((c) => c.length))).toBeGreaterThan(3);
      for (const c of counts) expect(c.filter((q) => q.at === T0).length).toBeLessThanOrEqual(3);
    });

    test("without the client limiter the fake refuses, and the retries still converge", async () => {
      const fake = await burst(false);
      expect(fake.rateLimited).toBeGreaterThan(0);
    });

    test("token buckets: 1/s with bursts of 3; Get Machine 5/s with bursts of 10", () => {
      const clock = new VirtualClock(0);
      const limiter = new RateLimiter(clock);
      expect(Array.from({ length: 5 }, () => limiter.reserve("a/m", "start"))).toEqual([0, 0, 0, 1_000, 2_000]);
      expect(limiter.reserve("a/other", "start")).toBe(0);
      expect(Array.from({ length: 11 }, () => limiter.reserve("a/m", "get")).at(-1)).toBe(200);
    });
  });

  test("backoff is jittered, exponential, capped, and yields to a longer Retry-After", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect(retryDelayMs(1, DEFAULT_FLY_RETRY, low)).toBe(250);
    expect(retryDelayMs(1, DEFAULT_FLY_RETRY, high)).toBe(500);
    expect(retryDelayMs(3, DEFAULT_FLY_RETRY, low)).toBe(1_000);
    expect(retryDelayMs(10, DEFAULT_FLY_RETRY, high)).toBe(8_000);
    expect(retryDelayMs(1, DEFAULT_FLY_RETRY, low, 7_000)).toBe(7_000);
    expect(parseRetryAfter("3", 0)).toBe(3_000);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:05 GMT", 1_000)).toBe(4_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });

  describe("refusals", () => {
    test("no token: a clear, non-retryable error before any request", async () => {
      const { fake } = await open();
      const driver = new FlyDriver({ clock: r.clock, token: "", fetch: r.fetch, apiUrls: [fake.url] });
      const e = await rejection(r.run(driver.start(r.target())));
      expect(e.retryable).toBe(false);
      // An operator reads it in the decision's note: it names the variable, not FlyDriver's options.
      expect(e.message).toBe("fly: no API token: set FLY_API_TOKEN in the server's environment");
      expect(fake.requests).toEqual([]);
    });

    test("the token comes from FLY_API_TOKEN", async () => {
      const { fake } = await open();
      const saved = process.env.FLY_API_TOKEN;
      try {
        delete process.env.FLY_API_TOKEN;
        const without = new FlyDriver({ clock: r.clock, fetch: r.fetch, apiUrls: [fake.url] });
        expect((await rejection(r.run(without.observe(r.target())))).retryable).toBe(false);
        process.env.FLY_API_TOKEN = fake.token;
        const withEnv = new FlyDriver({ clock: r.clock, fetch: r.fetch, apiUrls: [fake.url] });
        expect((await r.run(withEnv.observe(r.target()))).status).toBe("stopped");
      } finally {
        if (saved === undefined) delete process.env.FLY_API_TOKEN;
        else process.env.FLY_API_TOKEN = saved;
      }
    });

    test("a wrong token: 401, not retried", async () => {
      const { fake } = await open();
      const driver = new FlyDriver({ clock: r.clock, token: "wrong", fetch: r.fetch, apiUrls: [fake.url] });
      const e = await rejection(r.run(driver.start(r.target())));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/HTTP 401/);
      expect(fake.requests).toHaveLength(1);
    });

    test("permanent 503: rejects after the driver's bounded tries, retryable for the outbox", async () => {
      const { fake, driver } = await open();
      fake.faults.add({ status: 503, times: Infinity });
      const e = await rejection(r.run(driver.start(r.target())));
      expect(e.retryable).toBe(true);
      expect(e.message).toMatch(/^fly start vigil-test\/3d8d9016b26789: GET .* HTTP 503 .*\(after 5 tries\)$/);
      expect(fake.requests).toHaveLength(DEFAULT_FLY_RETRY.attempts);
    });

    test("an unknown machine: 404, not retried", async () => {
      const { fake, driver } = await open();
      const e = await rejection(r.run(driver.start(r.target({ machineId: "0000000000dead" }))));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/404 machine 0000000000dead not found/);
      expect(fake.requests).toHaveLength(1);
    });

    test("a destroyed machine cannot be started", async () => {
      const { driver } = await open({ state: "destroyed" });
      const e = await rejection(r.run(driver.start(r.target())));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/machine is destroyed/);
    });

    test("an invalid config: non-retryable, naming the field", async () => {
      const { driver } = await open();
      const e = await rejection(r.run(driver.start({ objectId: "x", config: { app: "Bad App", machineId: MACHINE } })));
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/\$\.app/);
    });

    test("waitTimeoutS above Fly's 60 s is refused", () => {
      expect(() => new FlyDriver({ clock: new VirtualClock(0), waitTimeoutS: 61 })).toThrow(RangeError);
    });
  });
});

describe("the fake checks requests against the OpenAPI document", () => {
  let fake: FlyFake;
  let clock: VirtualClock;
  beforeEach(async () => {
    clock = new VirtualClock(T0);
    fake = await startFlyFake({ clock, machines: [MACHINE] });
  });
  afterEach(() => fake.close());

  const machine = () => `/v1/apps/${fake.app}/machines/${MACHINE}`;
  const send = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${fake.url}${path}`, {
      method,
      body: init.body,
      headers: { authorization: `Bearer ${fake.token}`, ...init.headers },
    });
  const json = { "content-type": "application/json" };

  test.each([
    [
      "a stop signal that is not a string",
      "POST",
      "/stop",
      { body: '{"signal":9}', headers: json },
      400,
      /body\.signal: expected a string/,
    ],
    [
      "a property the spec does not name",
      "POST",
      "/stop",
      { body: '{"signal":"SIGTERM","grace":3}', headers: json },
      400,
      /body\.grace: not a property/,
    ],
    [
      "a stop timeout that is no duration",
      "POST",
      "/stop",
      { body: '{"timeout":"soon"}', headers: json },
      400,
      /body\.timeout/,
    ],
    ["a body that is not JSON", "POST", "/stop", { body: "signal=TERM", headers: json }, 400, /not JSON/],
    [
      "JSON without its content type",
      "POST",
      "/stop",
      { body: "{}", headers: { "content-type": "text/plain" } },
      400,
      /application\/json/,
    ],
    [
      "a body where the operation takes none",
      "POST",
      "/start",
      { body: "{}", headers: json },
      400,
      /takes no request body/,
    ],
    ["a lease request without its body", "POST", "/lease", {}, 400, /request body is required/],
    [
      "a lease ttl that is not an integer",
      "POST",
      "/lease",
      { body: '{"ttl":"1h"}', headers: json },
      400,
      /body\.ttl: expected an integer/,
    ],
    ["a wait state outside the enum", "GET", "/wait?state=running", {}, 400, /query\.state: "running" is not one of/],
    [
      "a wait timeout that is not an integer",
      "GET",
      "/wait?timeout=soon",
      {},
      400,
      /query\.timeout: expected an integer/,
    ],
    [
      "a query parameter the spec does not name",
      "GET",
      "/wait?state=started&poll=1",
      {},
      400,
      /query parameter poll is not in the spec/,
    ],
    [
      "a lease release without the nonce header",
      "DELETE",
      "/lease",
      {},
      400,
      /header parameter fly-machine-lease-nonce is required/,
    ],
    ["a path the spec does not have", "POST", "/reboot", {}, 404, /no path in the spec matches/],
    ["a method the path does not have", "DELETE", "/start", {}, 405, /DELETE is not an operation/],
  ] as const)("refuses %s and records it", async (_name, method, suffix, init, status, problem) => {
    const res = await send(method, machine() + suffix, init);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(problem);
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]!.problems.join("; ")).toMatch(problem);
    expect(fake.machines.get(MACHINE)!.state).toBe("stopped");
  });

  test("a path outside /v1 is not in the spec", async () => {
    const res = await send("GET", `/apps/${fake.app}/machines/${MACHINE}`);
    expect(res.status).toBe(404);
    expect(fake.violations).toHaveLength(1);
  });

  test("bearer auth: a valid request without the token is 401, not a spec violation", async () => {
    const res = await fetch(`${fake.url}${machine()}`);
    expect(res.status).toBe(401);
    expect(fake.violations).toEqual([]);
  });

  test("a valid request passes and its answer follows the spec's Machine schema", async () => {
    const res = await send("GET", machine());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: MACHINE, state: "stopped" });
    expect(fake.violations).toEqual([]);
    expect(fake.selfViolations).toEqual([]);
  });

  test("rate limits: a fourth start within the second is 429 with Retry-After", async () => {
    fake.machines.get(MACHINE)!.state = "started";
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await send("POST", `${machine()}/suspend`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(retryAfter).toBe("1");
    expect(fake.rateLimited).toBe(1);
  });

  test("a stop timeout past Go's limit (an int64 of nanoseconds) is refused, 400, as Fly's parser refuses it", async () => {
    const stop = (timeout: string) =>
      send("POST", `${machine()}/stop`, { body: JSON.stringify({ timeout }), headers: json });
    // The last is 1<<63 - 1 ns written exactly, but Go scales a fraction in float64: 1<<63 to Go.
    for (const timeout of ["2562047h47m16.854775808s", "9223372036854775808ns", "2562047.7880152155022222h"])
      expect((await stop(timeout)).status, timeout).toBe(400);
    // Past the stop's burst of 3 (1 a second).
    await clock.advance(1_000);
    expect((await stop("2562047h47m16.854775807s")).status).toBe(200);
    expect(fake.violations).toEqual([]);
  });

  test("a replaced machine is another instance: a wait naming the old one is refused, 400", async () => {
    const before = fake.machines.get(MACHINE)!.instanceId;
    fake.replace(MACHINE, 1_000);
    expect(fake.machines.get(MACHINE)!.instanceId).not.toBe(before);
    const wait = await send("GET", `${machine()}/wait?state=stopped&timeout=1&instance_id=${before}`);
    expect(wait.status).toBe(400);
    expect(fake.violations).toEqual([]);
  });

  test("the stop timeout: Fly takes a Go duration string, which the document as written does not allow", async () => {
    const literal = await startFlyFake({ clock: new VirtualClock(T0), machines: [MACHINE], specOverrides: false });
    try {
      const stop = (f: FlyFake, body: string) =>
        fetch(`${f.url}/v1/apps/${f.app}/machines/${MACHINE}/stop`, {
          method: "POST",
          body,
          headers: { authorization: `Bearer ${f.token}`, ...json },
        });
      expect((await stop(literal, '{"timeout":"30s"}')).status).toBe(400);
      expect((await stop(literal, '{"timeout":{"time.Duration":30000000000}}')).status).toBe(200);
      expect((await stop(fake, '{"timeout":"30s"}')).status).toBe(200);
      expect((await stop(fake, '{"timeout":{"time.Duration":30000000000}}')).status).toBe(400);
    } finally {
      await literal.close();
    }
  });
});

describe("the checked-in OpenAPI document", () => {
  // The digest of Fly's published document as the team keeps it: a clone has no team copy
  // beside it, so the digest is what every checkout compares against.
  const PUBLISHED_SHA256 = "37626b66129a00180024a83b7ec1a9e69f405963a40056629596f5338eb4280f";
  const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

  test("is Fly's published document, unchanged", () => {
    expect(digest(DEFAULT_SPEC_PATH)).toBe(PUBLISHED_SHA256);
    // Beside the team's copy (not in a clone), that copy must not have moved on either.
    if (existsSync(SHARED_SPEC_PATH)) expect(digest(SHARED_SPEC_PATH)).toBe(PUBLISHED_SHA256);
  });
});
