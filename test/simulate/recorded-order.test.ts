// `vigil simulate --db` plays an object's journaled facts in the order the server applied them.
// A server's clock can step back (NTP, a VM resumed): a fact is then journaled with a time
// earlier than the one before it, or than its object's creation. Sorted by those times, the facts
// were applied out of order (the simulated memory was not the server's), and one dated before the
// creation stopped the simulation with an internal error.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import type { Decision } from "../../src/core/types.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { recordedWorkload } from "../../src/simulate/recorded.ts";
import { simulate } from "../../src/simulate/simulate.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { collectHistory, readHistory } from "../../src/what-if/history.ts";
import { RULES_DIR, START } from "../helpers/services.ts";
import { SteppingClock } from "../helpers/stepping-clock.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const LATENCIES = { startMs: 0, resumeMs: 0 };

/**
 * A server's history of `on-demand` object w: work comes 10 s after its creation, then the
 * clock steps back by `backMs`, and the work is done. Returns the database's URL.
 */
async function record(backMs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-sim-order-"));
  dirs.push(dir);
  const url = `file:${join(dir, "v.db")}`;
  const store = new LibsqlStore({ url });
  const clock = new SteppingClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const governor = new Governor({
    store,
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock })],
    random: () => 0.5,
  });
  await governor.start();
  const settle = () => governor.idle();
  try {
    await governor.putObject("w", {
      policy: "on-demand",
      memory: {},
      substrate: { driver: "simulated", config: LATENCIES },
    });
    await clock.advance(10_000, settle);
    await governor.postFacts("w", { work: { pending: 3 } });
    await clock.advance(0, settle);
    clock.stepBack(backMs);
    await governor.postFacts("w", { work: { pending: 0 } });
    await clock.advance(0, settle);
  } finally {
    await governor.close();
    await store.close();
  }
  return url;
}

const summary = (d: Pick<Decision, "trigger" | "outcome" | "fromState" | "toState">) => ({
  trigger: d.trigger.kind,
  outcome: d.outcome,
  fromState: d.fromState,
  toState: d.toState,
});

async function run(url: string) {
  const store = new LibsqlStore({ url });
  try {
    const recorded = (await collectHistory(readHistory(store, "w"))).decisions.map(summary);
    const workload = await recordedWorkload(store, ["w"]);
    const registry = new PolicyRegistry();
    registry.loadDirectory(RULES_DIR);
    const result = await simulate({
      registry,
      policies: ["on-demand"],
      workload,
      latencies: LATENCIES,
      autostopMs: null,
      until: START + 60_000,
    });
    return { recorded, workload, result };
  } finally {
    await store.close();
  }
}

test("a fact journaled with an earlier time than the one before it comes after it, as the server applied it", async () => {
  const { recorded, workload, result } = await run(await record(5_000));
  // The work, then its end: the server woke the object and put it back to sleep.
  expect(recorded.map((d) => d.outcome)).toEqual(["none", "wake", "dormancy"]);
  expect(workload.facts.map((f) => [f.at - START, f.facts])).toEqual([
    [10_000, { work: { pending: 3 } }],
    // Recorded at 5 s: it arrives at the time of the fact before it.
    [10_000, { work: { pending: 0 } }],
  ]);
  expect(result.decisions.get("on-demand")!.map(summary)).toEqual(recorded);
  // Not woken by the work's end and kept awake by the work that came before it.
  expect(result.rows[0]!.seconds.active).toBe(0);
});

test("a fact journaled with a time before its object's creation arrives after the creation", async () => {
  const { workload, result } = await run(await record(20_000));
  expect(workload.objects.map((o) => o.createdAt - START)).toEqual([0]);
  expect(workload.facts.map((f) => f.at - START)).toEqual([10_000, 10_000]);
  expect(result.decisions.get("on-demand")!.map((d) => d.outcome)).toEqual(["none", "wake", "dormancy"]);
});
