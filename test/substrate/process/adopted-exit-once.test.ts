// The exit of a leader adopted after a restart is reported once. It has no exit event: the
// driver finds it gone by its liveness watch (every second on the clock), or when a call looks.
// Found in review: observe() (reconciliation's) reported the death without recording it, and the
// start that the evaluation of that report sent found the leader gone again and told the
// listeners: one crash, two `substrate` evaluations, two starts, two crash-loop counts.

import { afterEach, describe, expect, test } from "vitest";
import type { Observation } from "../../../src/core/types.ts";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { isGone, procfs, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close().catch(() => {});
  killGroups(groups);
});

const gone = (pid: number) => () => {
  const s = readStat(pid);
  return !s || isGone(s);
};

describe.skipIf(!procfs)("an adopted leader's exit", () => {
  test("found by observe is recorded there: a later start spawns anew and tells the listeners nothing", async () => {
    const clock = new VirtualClock(0);
    const t: DriverTarget = { objectId: "w", config: { command: "sleep", args: ["1000"] } };
    const a = new ProcessDriver({ clock });
    closing.push(a);
    const before = await a.start(t);
    const pid = before.pid as number;
    groups.push(pid);
    await a.close();

    const b = new ProcessDriver({ clock });
    closing.push(b);
    const told: Observation[] = [];
    b.onObservation((_, o) => told.push(o));
    expect(await b.adopt(t, before)).toMatchObject({ status: "running", pid, reason: "adopted after restart" });
    process.kill(pid, "SIGKILL");
    expect(await eventually(gone(pid))).toBe(true);

    expect(await b.observe(t)).toMatchObject({ status: "stopped", pid, exitCode: null, signal: null });
    // The watch is called off: nothing is due on the clock.
    expect(clock.waiting).toBe(0);
    const again = await b.start(t);
    groups.push(again.pid as number);
    expect(again).toMatchObject({ status: "running" });
    expect(again.pid).not.toBe(pid);
    await clock.advance(1000);
    expect(told).toEqual([]);
  });

  test("found by reconciliation is evaluated once", async () => {
    const clock = new VirtualClock("2026-01-01T00:00:00Z");
    const store = new MemoryStore();
    const first = await governor(store, clock);
    await first.putObject("w1", {
      policy: "worker",
      substrate: { driver: "process", config: { command: "sleep", args: ["1000"] } },
    });
    const started = new Promise<void>((r) => first.events.on("action:confirmed", (x) => x.kind === "start" && r()));
    await first.postFacts("w1", { work: 1 });
    await started;
    const pid = (await first.getObject("w1"))!.substrate.observed!.pid as number;
    groups.push(pid);
    await first.close();

    // The restarted server adopts the tree; the leader dies before the watch's first check,
    // and a reconciliation pass comes first.
    const second = await governor(store, clock);
    expect((await second.getObject("w1"))!.substrate.observed).toMatchObject({ reason: "adopted after restart" });
    process.kill(pid, "SIGKILL");
    expect(await eventually(gone(pid))).toBe(true);
    const restarted = new Promise<void>((r) => second.events.on("action:confirmed", (x) => x.kind === "start" && r()));
    expect(await second.reconcile()).toBe(1);
    await restarted;
    await second.idle();

    const o = (await second.getObject("w1"))!;
    groups.push(o.substrate.observed!.pid as number);
    expect(o.state).toBe("active");
    const crashes = (await second.listDecisions("w1", 20)).filter((d) => d.trigger.kind === "substrate");
    expect(crashes.map((d) => d.trigger.name)).toEqual(["stopped"]);
  });
});

const policy = {
  name: "worker",
  version: "1",
  sleep: "stop",
  rules: [
    {
      name: "work",
      conditions: { all: [{ fact: "memory", path: "$.work", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
  ],
};

async function governor(store: MemoryStore, clock: VirtualClock): Promise<Governor> {
  const policies = new PolicyRegistry();
  const r = policies.loadText(JSON.stringify(policy), "inline/worker.json");
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const g = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  closing.push(g);
  await g.start();
  return g;
}
