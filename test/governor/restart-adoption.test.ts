// A restart re-adopts the compute of process objects and sends the outbox's pending actions:
// an action an adoption decides goes to the driver once (not again from the store); a stop under
// way carries the object to dormant (its compute seen running is only recorded); a start never
// sent is sent, not taken for a crash of compute it has not yet started.

import { readFileSync } from "node:fs";
import { afterEach, expect, onTestFinished, test, vi } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { liveStat } from "../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { eventually } from "../helpers/eventually.ts";
import { commitWakingWithStart, T0 } from "../helpers/records.ts";
import { killGroups } from "../helpers/process.ts";

const pids: number[] = [];
const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close().catch(() => {});
  killGroups(pids);
});

const policy = {
  name: "worker",
  version: "1",
  sleep: "stop",
  dwell: { minActive: "PT2M" },
  rules: [
    {
      name: "work",
      conditions: { all: [{ fact: "memory", path: "$.work", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "idle",
      conditions: {
        all: [
          { fact: "memory", path: "$.work", operator: "equal", value: 0 },
          { fact: "state", operator: "in", value: ["active", "waking"] },
        ],
      },
      event: { type: "dormancy" },
    },
  ],
};

// Ignores SIGTERM, so that a stop waits out its grace period (on the virtual clock).
const substrate = {
  driver: "process",
  config: {
    command: "/bin/sh",
    args: ["-c", "trap '' TERM; exec sleep 1000"],
    graceMs: 5000,
  },
};

/** A worker whose work is done (its rules say none), bound to a long sleep on the process driver. */
const idleWorker = {
  policy: "worker",
  memory: { work: 0 },
  substrate: { driver: "process", config: { command: "sleep", args: ["1000"] }, observed: null },
};

/** A started governor; `before` sees it before its start (listeners for what the start does). */
async function make(
  store: MemoryStore,
  clock: VirtualClock,
  before: (g: Governor) => void = () => {},
): Promise<Governor> {
  const policies = new PolicyRegistry();
  const r = policies.loadText(JSON.stringify(policy), "inline/worker.json");
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const g = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  governors.push(g);
  before(g);
  await g.start();
  return g;
}

/** Until the process has its SIGTERM handler (SigIgn bit 15: it ignores SIGTERM in /proc). */
async function termHandled(pid: number): Promise<void> {
  const handled = () => {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const mask = (name: string) =>
      BigInt("0x" + (new RegExp(`^${name}:\\s+([0-9a-f]+)$`, "m").exec(status)?.[1] ?? "0"));
    return (mask("SigIgn") & 0x4000n) !== 0n;
  };
  if (!(await eventually(handled))) throw new Error("no SIGTERM handler");
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

test("an action decided by a restart's adoption is dispatched once", async () => {
  const clock = new VirtualClock("2026-01-01T00:00:00Z");
  const store = new MemoryStore();
  const g1 = await make(store, clock);
  await g1.putObject("w1", {
    policy: "worker",
    substrate: { driver: "process", config: { command: "sleep", args: ["1000"] } },
  });
  const started = new Promise<void>((r) => g1.events.on("action:confirmed", (a) => a.kind === "start" && r()));
  await g1.postFacts("w1", { work: 1 });
  await started;
  const pid = (await g1.getObject("w1"))!.substrate.observed!.pid as number;
  pids.push(pid);

  // The server stops (its processes outlive it), and the compute dies meanwhile.
  await g1.close();
  governors.splice(governors.indexOf(g1), 1);
  process.kill(-pid, "SIGKILL");
  // The kernel ends it in real time, which turns of the event loop do not measure.
  expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);

  const dispatched: string[] = [];
  const confirmed: string[] = [];
  const g2 = await make(store, clock, (g) => {
    g.events.on("action:dispatched", (a) => dispatched.push(a.id));
    g.events.on("action:confirmed", (a) => confirmed.push(a.id));
  });
  for (let i = 0; i < 50 && confirmed.length === 0; i++) {
    await g2.idle();
    await clock.advance(100);
  }
  const o = (await g2.getObject("w1"))!;
  pids.push(o.substrate.observed!.pid as number);
  expect(o.state).toBe("active");
  const restart = (await g2.listDecisions("w1", 10)).find((d) => d.trigger.kind === "substrate");
  expect(restart?.actions.map((a) => a.kind)).toEqual(["start"]);
  expect(dispatched).toEqual([restart!.actions[0]!.id]);
  expect(confirmed).toEqual([restart!.actions[0]!.id]);
});

test("a start still to be sent at a restart is sent, not taken for a crash of the compute it has not started", async () => {
  // The server stopped after committing a wake and before sending its start: the object is
  // waking, its start pending, nothing runs. Its rules no longer fire (the wake came from a
  // fact now changed, or a timer that has rung): the adoption's "stopped" must not move it.
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  await commitWakingWithStart(store, {
    ...idleWorker,
  });
  const confirmed: string[] = [];
  const g = await make(store, clock, (g) => g.events.on("action:confirmed", (a) => confirmed.push(a.id)));
  for (let i = 0; i < 50 && confirmed.length === 0; i++) {
    await g.idle();
    await clock.advance(100);
  }
  const o = (await g.getObject("w1"))!;
  pids.push(o.substrate.observed!.pid as number);
  expect(confirmed).toEqual(["act-start"]);
  expect(o.state).toBe("active");
  expect((await g.listDecisions("w1", 10)).map((d) => d.trigger.kind)).not.toContain("substrate");
});

test("a stop pending across a restart ends dormant, not active with its process gone", async () => {
  const clock = new VirtualClock("2026-01-01T00:00:00Z");
  const store = new MemoryStore();
  const g1 = await make(store, clock);
  await g1.putObject("w1", { policy: "worker", substrate });
  const started = new Promise<void>((r) => g1.events.on("action:confirmed", (a) => a.kind === "start" && r()));
  await g1.postFacts("w1", { work: 1 });
  await started;
  const pid = (await g1.getObject("w1"))!.substrate.observed!.pid as number;
  pids.push(pid);
  await termHandled(pid);

  // Past the dwell; then the work is done: dormancy, a stop, SIGTERM ignored, SIGKILL due later.
  await clock.advance(3 * 60_000, settle);
  const dispatched = new Promise<void>((r) => g1.events.on("action:dispatched", (a) => a.kind === "stop" && r()));
  const sleep = await g1.postFacts("w1", { work: 0 });
  expect(sleep.decision.actions.map((a) => a.kind)).toEqual(["stop"]);
  await dispatched;
  await settle();
  expect((await g1.getObject("w1"))!.state).toBe("sleeping");

  // The server stops mid-stop (a deploy): the process keeps running, the stop stays pending.
  await g1.close();
  governors.splice(governors.indexOf(g1), 1);
  expect((await store.pendingActions()).map((a) => a.kind)).toEqual(["stop"]);

  // The re-dispatched stop: SIGTERM, then SIGKILL after graceMs on the clock, then the watch of
  // the adopted process (on the clock, every second: it is not this driver's child) sees it gone.
  // The kernel ends the killed process in real time, which turns of the loop do not measure (the
  // 55 after the SIGKILL pass in a few milliseconds, less than a loaded core may take to run its
  // exit): once the SIGKILL has gone to its group, the clock moves on only when the process is gone.
  const kill = vi.spyOn(process, "kill");
  onTestFinished(() => kill.mockRestore());
  const killSent = () => kill.mock.calls.some(([to, signal]) => Math.abs(to) === pid && signal === "SIGKILL");
  const g2 = await make(store, clock);
  let stopConfirmed = false;
  g2.events.on("action:confirmed", (a) => {
    if (a.kind === "stop") stopConfirmed = true;
  });
  for (let i = 0; i < 60 && !stopConfirmed; i++) {
    await clock.advance(1000, settle);
    await g2.idle();
    if (killSent()) expect(await eventually(() => liveStat(pid, null) === null)).toBe(true);
  }
  expect(stopConfirmed).toBe(true);
  const o = (await g2.getObject("w1"))!;
  expect(o.substrate.observed).toMatchObject({ status: "stopped" });
  // The decided dormancy is carried out: the object is dormant, as its compute is.
  expect(o.state).toBe("dormant");
});

test("a start waiting out its backoff at a restart is superseded when the object is seen stopped and its rules say none", async () => {
  // Tried once before the server stopped, failed, waiting out its backoff: nothing runs. The
  // adoption's "stopped" moves the object to dormant and its rules say none (the fact that woke
  // it is gone): the old start must not bring the compute up under a dormant object.
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  await commitWakingWithStart(store, {
    ...idleWorker,
    attempts: 1,
  });
  const sent: string[] = [];
  const g = await make(store, clock, (g) => g.events.on("action:dispatched", (a) => sent.push(a.id)));
  await clock.advance(5000);
  await g.idle();
  const o = (await g.getObject("w1"))!;
  expect(o.state).toBe("dormant");
  expect(sent).toEqual([]);
  const [seen] = await g.listDecisions("w1", 1);
  expect(seen).toMatchObject({ trigger: { kind: "substrate", name: "stopped" }, outcome: "none" });
  expect(seen!.actions).toEqual([]);
  expect(await store.pendingActions()).toEqual([]);
});
