// docs/simulate.md, "How it runs": the substrate takes an object's actions one at a time, so a
// dormancy decided while a start is under way leaves the object `sleeping` until that start has
// finished; a wake decided meanwhile counts as a wake, its start queued behind the one under way
// (which serves it), and dropped by a later dormancy or else sent all the same, done at once
// (the compute runs already). And the figures' `wakes`: the moves into waking the policy decided,
// not the starts sent.

import { describe, expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { PolicyRun } from "../../src/simulate/policy-run.ts";
import { simulate } from "../../src/simulate/simulate.ts";
import { figuresOf } from "../../src/simulate/stats.ts";
import { parseTraffic } from "../../src/simulate/traffic.ts";
import { RULES_DIR } from "../helpers/services.ts";

const T0 = Date.parse("2026-03-02T00:00:00Z");
const LATENCIES = { startMs: 600_000, resumeMs: 1 };

/** Traffic for one object "w": [seconds after midnight, queue depth and jobs in flight]. */
function traffic(facts: [number, number][]) {
  const lines = facts.map(([s, n]) =>
    JSON.stringify({
      at: new Date(T0 + s * 1000).toISOString(),
      objectId: "w",
      facts: { queue: { depth: n }, jobs: { inflight: n } },
    }),
  );
  return parseTraffic(lines.join("\n"), "t.jsonl");
}

function registry() {
  const r = new PolicyRegistry();
  r.loadDirectory(RULES_DIR);
  return r;
}

/** The row's figures, its states (seconds after midnight), and what the substrate was sent when. */
async function run(facts: [number, number][]) {
  const workload = traffic(facts);
  const policyRun = await PolicyRun.create(registry(), "queue-worker", workload, LATENCIES);
  const sent: string[] = [];
  const { events } = policyRun.sandbox.governor;
  const at = () => (policyRun.sandbox.clock.now() - T0) / 1000;
  events.on("action:dispatched", (a) => sent.push(`${at()} ${a.kind} sent`));
  events.on("action:confirmed", (a) => sent.push(`${at()} ${a.kind} done`));
  const end = await policyRun.play(null, 86_400_000);
  const trace = await policyRun.finish(end);
  const states = trace.changes.get("w")!.map((c) => `${(c.at - T0) / 1000} ${c.state}`);
  return { figures: figuresOf(trace, end), states, sent, end: (end - T0) / 1000 };
}

describe("a start under way (queue-worker, a 10-minute start)", () => {
  test("the doc's example: sleeping while the suspend waits, two wakes for one start sent", async () => {
    const facts: [number, number][] = [
      [0, 1],
      [10, 0],
      [180, 1],
      [190, 0],
    ];
    const r = await run(facts);
    expect(r.states).toEqual([
      "0 dormant",
      "0 waking", // a wake: the start, sent now, finishes at 600
      "120 sleeping", // dormancy (dwell.minActive PT2M): the suspend waits for the start
      "180 waking", // a wake: the suspend dropped, a start queued behind the one under way
      "300 sleeping", // dormancy: the queued start dropped, a suspend queued
      "600 dormant", // the start finishes, the suspend is sent and takes no time
    ]);
    expect(r.sent).toEqual(["0 start sent", "600 start done", "600 suspend sent", "600 suspend done"]);
    expect(r.figures).toMatchObject({
      seconds: { active: 0, waking: 240, sleeping: 360, dormant: 0, failed: 0 },
      wakes: 2,
      waited: { count: 4, unserved: 4, p50: null, p99: null, max: null },
    });
    // What `vigil simulate` prints is the same row.
    const result = await simulate({
      registry: registry(),
      policies: ["queue-worker"],
      workload: traffic(facts),
      latencies: LATENCIES,
      autostopMs: null,
      until: null,
    });
    expect(result.rows[0]).toEqual(r.figures);
  });

  test("a wake served by the start under way: its own start is sent after, and done at once", async () => {
    const r = await run([
      [0, 1],
      [10, 0],
      [180, 1],
      [630, 0],
    ]);
    expect(r.states).toEqual([
      "0 dormant",
      "0 waking",
      "120 sleeping",
      "180 waking", // a start queued behind the one under way
      "600 active", // the start under way finishes: it serves the wake
      "660 sleeping", // dormancy once the job's hold ends (idle since 630)
      "660 dormant", // the suspend, sent at once, takes no time
    ]);
    expect(r.sent).toEqual([
      "0 start sent",
      "600 start done",
      "600 start sent", // the queued start, to running compute: done at once
      "600 start done",
      "660 suspend sent",
      "660 suspend done",
    ]);
    expect(r.figures).toMatchObject({
      seconds: { active: 60, waking: 540, sleeping: 60 },
      wakes: 2,
    });
  });
});
