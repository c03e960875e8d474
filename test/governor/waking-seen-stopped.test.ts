// A waking object seen stopped has its queued start superseded; so is the start in flight
// at that moment, if it fails and would be tried again, and the start queued when no policy is
// loaded: none may bring compute up under a dormant object. A start whose retryable failure is
// being recorded when the observation comes is queued again inside that same mailbox task, so
// the observation (and a crash loop it completes) finds it and drops it.

import { afterEach, expect, test } from "vitest";
import type { Observation } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { DriverError, type Driver, type DriverTarget, type ObservationListener } from "../../src/substrate/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { commitWakingWithStart, T0 } from "../helpers/records.ts";

interface Call {
  kind: string;
  resolve: (o: Observation) => void;
  reject: (e: Error) => void;
}

class FakeDriver implements Driver {
  readonly name = "fake";
  readonly canSuspend = false;
  readonly calls: Call[] = [];
  /** What runs, as far as this substrate knows. */
  running = false;
  private listeners: ObservationListener[] = [];
  constructor(private readonly clock: VirtualClock) {}
  validateConfig() {
    return [];
  }
  private call(kind: string): Promise<Observation> {
    return new Promise((resolve, reject) =>
      this.calls.push({
        kind,
        resolve: (o) => {
          if (kind === "start") this.running = true;
          if (kind === "stop") this.running = false;
          resolve(o);
        },
        reject,
      }),
    );
  }
  start(_t: DriverTarget) {
    return this.call("start");
  }
  suspend(_t: DriverTarget) {
    return this.call("suspend");
  }
  stop(_t: DriverTarget) {
    return this.call("stop");
  }
  async observe(_t: DriverTarget): Promise<Observation> {
    return { status: this.running ? "running" : "stopped", at: this.clock.now() };
  }
  async adopt(_t: DriverTarget): Promise<Observation> {
    return { status: this.running ? "running" : "stopped", at: this.clock.now() };
  }
  onObservation(l: ObservationListener) {
    this.listeners.push(l);
  }
  emit(id: string, o: Observation) {
    for (const l of this.listeners) l(id, o);
  }
  async close() {}
}

// Wakes on work that arrives as facts; a crash with nothing new to do leaves it dormant.
const policy = {
  name: "on-request",
  version: "1",
  sleep: "stop",
  rules: [
    {
      name: "request",
      conditions: {
        all: [
          { fact: "trigger", path: "$.kind", operator: "equal", value: "facts" },
          { fact: "memory", path: "$.work", operator: "greaterThan", value: 0 },
        ],
      },
      event: { type: "wake" },
    },
  ],
};

const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close().catch(() => {});
});

async function make(store: MemoryStore, clock: VirtualClock, driver: FakeDriver, load = true): Promise<Governor> {
  const policies = new PolicyRegistry(() => clock.now());
  if (load) {
    const r = policies.loadText(JSON.stringify(policy), "inline/on-request.json");
    if (!r.ok) throw new Error(JSON.stringify(r.error));
  }
  const g = new Governor({ store, policies, clock, drivers: [driver], defaultDriver: "fake", random: () => 0.5 });
  governors.push(g);
  await g.start();
  return g;
}

const settle = async (g: Governor) => {
  for (let i = 0; i < 5; i++) {
    await g.idle();
    await new Promise((r) => setImmediate(r));
  }
};

/** Object w1 of on-request, woken by a request: its start is with the driver. */
async function startInFlight() {
  const clock = new VirtualClock(T0);
  const driver = new FakeDriver(clock);
  const g = await make(new MemoryStore(), clock, driver);
  await g.putObject("w1", { policy: "on-request" });
  await g.postFacts("w1", { work: 1 });
  await settle(g);
  expect(driver.calls.map((c) => c.kind)).toEqual(["start"]);
  return { clock, driver, g };
}

test("a start in flight when its waking object is seen stopped does not come back from its backoff to start a dormant object", async () => {
  const { clock, driver, g } = await startInFlight();
  expect((await g.getObject("w1"))!.state).toBe("waking");

  // While the start is with the substrate, the substrate reports the compute stopped: the
  // object follows to dormant and its rules (no new request) leave it there.
  driver.emit("w1", { status: "stopped", at: clock.now() });
  await settle(g);
  expect((await g.getObject("w1"))!.state).toBe("dormant");

  // The start then fails, retryably.
  driver.calls[0]!.reject(new DriverError("503 busy", true));
  await settle(g);
  await clock.advance(60_000, () => settle(g));

  // Nothing may start compute under the dormant object.
  const o = (await g.getObject("w1"))!;
  expect(o.state).toBe("dormant");
  expect(driver.calls.map((c) => c.kind)).toEqual(["start"]);
});

test("a start in backoff at a restart, its waking object seen stopped while its policy is not loaded, is not sent to a dormant object", async () => {
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  await commitWakingWithStart(store, {
    policy: "on-request",
    memory: { work: 1 },
    substrate: { driver: "fake", config: {}, observed: null },
    attempts: 1,
  });
  const driver = new FakeDriver(clock);
  // The policy file does not load at this start (a bad edit): the adoption sees the compute stopped.
  const g = await make(store, clock, driver, false);
  await clock.advance(5000, () => settle(g));
  const o = (await g.getObject("w1"))!;
  expect(o.state).toBe("dormant");
  // The old start must not bring the compute up under a dormant object.
  expect(driver.calls.map((c) => c.kind)).toEqual([]);
});

test("a waking object seen stopped while its start's retryable failure is being recorded (no policy loaded) does not get that start sent again under a dormant object", async () => {
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  // A start committed before a restart and never tried: it is sent once the server is up.
  await commitWakingWithStart(store, {
    policy: "on-request",
    memory: { work: 1 },
    substrate: { driver: "fake", config: {}, observed: null },
  });
  const driver = new FakeDriver(clock);
  // The policy file does not load at this start (a bad edit).
  const g = await make(store, clock, driver, false);
  await settle(g);
  expect(driver.calls.map((c) => c.kind)).toEqual(["start"]);

  // The start fails retryably; while its failure is being written, the substrate reports the
  // compute stopped (an exit seen by the driver's watcher): the observation queues in the
  // object's mailbox behind the failure.
  g.events.once("action:retrying", () => driver.emit("w1", { status: "stopped", at: clock.now() }));
  driver.calls[0]!.reject(new DriverError("503 busy", true));
  await settle(g);
  expect((await g.getObject("w1"))!.state).toBe("dormant");
  await clock.advance(60_000, () => settle(g));

  // The object is dormant: nothing may start compute under it.
  const o = (await g.getObject("w1"))!;
  expect(o.state).toBe("dormant");
  expect(driver.calls.map((c) => c.kind)).toEqual(["start"]);
  expect((await store.pendingActions()).map((a) => a.id)).toEqual([]);
});

test("the same, with the policy loaded (its rules leave the object dormant)", async () => {
  const { clock, driver, g } = await startInFlight();
  g.events.once("action:retrying", () => driver.emit("w1", { status: "stopped", at: clock.now() }));
  driver.calls[0]!.reject(new DriverError("503 busy", true));
  await settle(g);
  await clock.advance(60_000, () => settle(g));
  const o = (await g.getObject("w1"))!;
  expect(o.state).toBe("dormant");
  expect(driver.calls.map((c) => c.kind)).toEqual(["start"]);
});

// Restarts a crashed worker at once (what the crash-loop guard is there to stop).
const restarter = {
  name: "restarter",
  version: "1",
  sleep: "stop",
  rules: [
    {
      name: "restart",
      conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "substrate" }] },
      event: { type: "wake" },
    },
    {
      name: "request",
      conditions: { all: [{ fact: "trigger", path: "$.kind", operator: "equal", value: "facts" }] },
      event: { type: "wake" },
    },
  ],
};

test("the exit that makes a crash loop, seen while its restart's retryable failure is being recorded, still drops that restart", async () => {
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  const driver = new FakeDriver(clock);
  const policies = new PolicyRegistry(() => clock.now());
  const r = policies.loadText(JSON.stringify(restarter), "inline/restarter.json");
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const g = new Governor({ store, policies, clock, drivers: [driver], defaultDriver: "fake", random: () => 0.5 });
  governors.push(g);
  await g.start();
  await g.putObject("w1", { policy: "restarter" });
  await g.postFacts("w1", { go: 1 });
  await settle(g);
  driver.calls[0]!.resolve({ status: "running", at: clock.now() });
  await settle(g);
  expect((await g.getObject("w1"))!.state).toBe("active");
  // Four exits: each time the rules restart it; the fourth restart is still with the driver.
  for (let i = 1; i <= 4; i++) {
    driver.running = false;
    driver.emit("w1", { status: "stopped", at: clock.now() });
    await settle(g);
    expect(driver.calls.length).toBe(i + 1);
    if (i < 4) {
      driver.calls[i]!.resolve({ status: "running", at: clock.now() });
      await settle(g);
    }
  }
  expect((await g.getObject("w1"))!.state).toBe("waking");
  // The fourth restart fails retryably; the fifth exit is seen while that failure is written.
  g.events.once("action:retrying", () => driver.emit("w1", { status: "stopped", at: clock.now() }));
  driver.calls[4]!.reject(new DriverError("503 busy", true));
  await settle(g);
  expect((await g.getObject("w1"))!.state).toBe("failed");
  await clock.advance(60_000, async () => {
    await settle(g);
    for (const c of driver.calls.slice(5))
      c.resolve({ status: c.kind === "start" ? "running" : "stopped", at: clock.now() });
    await settle(g);
  });
  // A crash loop is "not evaluated, so not restarted": no start after the crash-loop decision.
  expect(driver.calls.slice(5).map((c) => c.kind)).not.toContain("start");
});
