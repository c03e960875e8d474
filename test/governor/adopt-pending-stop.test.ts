// docs/substrates.md (process, close/restarts): "a stop under way gets no SIGKILL: after the restart
// they are adopted again and the pending action is dispatched anew". The object was `sleeping`
// with its stop pending; the restart must finish that dormancy, not report the object `active`.

import { readFileSync } from "node:fs";
import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";

const pids: number[] = [];
const governors: Governor[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close().catch(() => {});
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
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

async function make(store: MemoryStore, clock: VirtualClock) {
  const policies = new PolicyRegistry();
  policies.loadDirectory(RULES_DIR);
  const r = policies.loadText(JSON.stringify(policy), "inline/worker.json");
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const g = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  governors.push(g);
  await g.start();
  return g;
}

/** Until the process has its SIGTERM handler (SigIgn bit 15: it ignores SIGTERM in /proc). */
async function termHandled(pid: number): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const mask = (name: string) =>
      BigInt("0x" + (new RegExp(`^${name}:\\s+([0-9a-f]+)$`, "m").exec(status)?.[1] ?? "0"));
    if ((mask("SigIgn") & 0x4000n) !== 0n) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error("no SIGTERM handler");
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

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

  const g2 = await make(store, clock);
  let stopConfirmed = false;
  g2.events.on("action:confirmed", (a) => {
    if (a.kind === "stop") stopConfirmed = true;
  });
  // The re-dispatched stop: SIGTERM, then SIGKILL after graceMs, then the watch sees the exit.
  for (let i = 0; i < 60 && !stopConfirmed; i++) {
    await clock.advance(1000, settle);
    await g2.idle();
  }
  expect(stopConfirmed).toBe(true);
  const o = (await g2.getObject("w1"))!;
  expect(o.substrate.observed).toMatchObject({ status: "stopped" });
  // (Today: the adoption moved the object sleeping -> active, its dwell deferred the dormancy, and
  // the old stop confirmed without moving it: active, with nothing running.)
  // The decided dormancy is carried out: the object is dormant, as its compute is.
  expect(o.state).toBe("dormant");
});
