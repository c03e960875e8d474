// The simulation runs the server's governor: a real Governor over a libsql file, driven through
// traffic on a virtual clock, takes the same decisions (trigger, outcome, states, time) as
// `vigil simulate --db` of the history it recorded, under the same policy and latencies.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import type { Decision } from "../../src/core/types.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { recordedWorkload } from "../../src/simulate/recorded.ts";
import { simulate } from "../../src/simulate/simulate.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { collectHistory, readHistory } from "../../src/what-if/history.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";

const S = 1000;
const MIN = 60 * S;
const LATENCIES = { startMs: 2000, resumeMs: 500 };

interface Case {
  policy: string;
  objects: Record<string, Record<string, unknown>>;
  /** [seconds after START, object, facts] */
  traffic: [number, string, Record<string, unknown>][];
  /** The server runs (and the simulation's window ends) this long after START. */
  endMs: number;
}

const CASES: Case[] = [
  {
    // Wakes, a start under way, the job lease, dwell, resumes, and the 6-hour check-in timer.
    policy: "queue-worker",
    objects: { w1: {}, w2: {} },
    traffic: [
      [0, "w1", { queue: { depth: 4 } }],
      [1, "w1", { queue: { depth: 3 }, jobs: { inflight: 1 } }],
      [30, "w2", { queue: { depth: 1 } }],
      [45, "w1", { queue: { depth: 0 }, jobs: { inflight: 0 } }],
      [200, "w2", { queue: { depth: 0 } }],
      [1800, "w1", { queue: { depth: 2 } }],
      [1800.2, "w1", { queue: { depth: 1 } }],
      [1900, "w1", { queue: { depth: 0 } }],
    ],
    endMs: 7 * 60 * MIN,
  },
  {
    // A cron sweep every minute, a hold with a lease, dormancy with a wake timer.
    policy: "continuous-monitor",
    objects: { m1: { monitoring: { enabled: true } }, m2: {} },
    traffic: [
      [10, "m2", { alerts: { open: 1 } }],
      [130, "m2", { alerts: { open: 0 } }],
      [300, "m1", { monitoring: { enabled: false } }],
      [1500, "m2", { alerts: { open: 2 } }],
      [1505, "m2", { alerts: { open: 0 } }],
    ],
    endMs: 45 * MIN,
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the server over the case's traffic; returns the database's URL. */
async function record(c: Case): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-sim-eq-"));
  dirs.push(dir);
  const url = `file:${join(dir, "v.db")}`;
  const s = await makeServices({ store: new LibsqlStore({ url }), start: START });
  try {
    for (const [id, memory] of Object.entries(c.objects))
      await s.governor.putObject(id, {
        policy: c.policy,
        memory: memory as never,
        substrate: { driver: "simulated", config: LATENCIES },
      });
    await s.advance(0);
    for (const [sec, id, facts] of c.traffic) {
      await s.advance(START + sec * S - s.clock.now());
      await s.governor.postFacts(id, facts);
      await s.advance(0);
    }
    await s.advance(START + c.endMs - s.clock.now());
  } finally {
    await s.close();
  }
  return url;
}

const summary = (d: Pick<Decision, "objectId" | "at" | "trigger" | "outcome" | "fromState" | "toState">) => ({
  objectId: d.objectId,
  at: new Date(d.at).toISOString(),
  trigger: d.trigger,
  outcome: d.outcome,
  fromState: d.fromState,
  toState: d.toState,
});

describe.each(CASES)("simulation = server: $policy", (c) => {
  let url: string;
  let recorded: ReturnType<typeof summary>[];

  test("the simulation of the recorded history takes the decisions the server took", async () => {
    url = await record(c);
    const store = new LibsqlStore({ url });
    try {
      const ids = Object.keys(c.objects);
      recorded = [];
      for (const id of ids) recorded.push(...(await collectHistory(readHistory(store, id))).decisions.map(summary));
      // Enough happened for the comparison to mean something.
      expect(recorded.length).toBeGreaterThan(8);
      expect(new Set(recorded.map((d) => d.trigger.kind))).toEqual(new Set(["create", "facts", "timer"]));

      const registry = new PolicyRegistry();
      registry.loadDirectory(RULES_DIR);
      const workload = await recordedWorkload(store, ids);
      const until = START + c.endMs;
      const result = await simulate({
        registry,
        policies: [c.policy],
        workload,
        latencies: LATENCIES,
        autostopMs: null,
        until,
      });
      const simulated = result.decisions.get(c.policy)!.map(summary);
      const byObject = (list: ReturnType<typeof summary>[], id: string) => list.filter((d) => d.objectId === id);
      for (const id of ids) expect(byObject(simulated, id)).toEqual(byObject(recorded, id));
    } finally {
      await store.close();
    }
  });

  test("vigil simulate --db reports the wakes and time the server recorded", async () => {
    const out: string[] = [];
    const until = new Date(START + c.endMs).toISOString();
    const args = ["--policy", c.policy, "--db", url, "--object", Object.keys(c.objects).join(",")];
    args.push("--start-latency", "PT2S", "--resume-latency", "500", "--until", until, "--rules", RULES_DIR, "--json");
    const code = await runSimulate(args, (s) => out.push(s));
    expect(code).toBe(0);
    const report = JSON.parse(out.join(""));
    const row = report.rows[0];
    expect(report.window).toEqual({
      from: new Date(START).toISOString(),
      to: new Date(START + c.endMs).toISOString(),
      seconds: c.endMs / 1000,
    });
    // Wakes within the window, [from, to): one at its very end is not counted.
    const end = new Date(START + c.endMs).toISOString();
    expect(row.wakes).toBe(
      recorded.filter((d) => d.fromState !== "waking" && d.toState === "waking" && d.at < end).length,
    );
    expect(row.facts).toBe(c.traffic.length);
    const total = Object.values(row.seconds as Record<string, number>).reduce((x, y) => x + y, 0);
    expect(total).toBeCloseTo((Object.keys(c.objects).length * c.endMs) / 1000, 6);
  });

  test("other latencies than the server's give other decisions: the comparison can tell", async () => {
    const store = new LibsqlStore({ url });
    try {
      const registry = new PolicyRegistry();
      registry.loadDirectory(RULES_DIR);
      const workload = await recordedWorkload(store, Object.keys(c.objects));
      const result = await simulate({
        registry,
        policies: [c.policy],
        workload,
        latencies: { startMs: 7000, resumeMs: 7000 },
        autostopMs: null,
        until: START + c.endMs,
      });
      expect(result.decisions.get(c.policy)!.map(summary)).not.toEqual(recorded);
    } finally {
      await store.close();
    }
  });
});
