// The autostop baseline: starts on any fact (start latency the first time, resume latency
// after), stops once no fact has come for the quiet time, and knows nothing of memory.

import { describe, expect, test } from "vitest";
import { runAutostop, settledAt } from "../../src/simulate/autostop.ts";
import { figuresOf } from "../../src/simulate/stats.ts";
import { workloadOf } from "../../src/simulate/traffic.ts";

const S = 1000;
const fact = (s: number, objectId: string) => ({ at: s * S, objectId, facts: { any: s }, source: `t${s}` });
const states = (list: { state: string; at: number }[]) => list.map((c) => `${c.state}@${c.at / S}`);

describe("autostop baseline", () => {
  const workload = workloadOf([
    fact(0, "a"), // starts a: 2 s
    fact(1, "a"), // a is waking: waits 1 s
    fact(100, "a"), // a is active: no wait; a stops 300 s later
    fact(500, "a"), // resumes a: 0.5 s
    fact(50, "b"), // starts b (its first start: 2 s)
  ]);
  const trace = runAutostop(workload, { startMs: 2000, resumeMs: 500, quietMs: 300 * S }, "autostop(PT5M)");

  test("starts on facts, resumes after the first start, stops after the quiet time", () => {
    expect(states(trace.changes.get("a")!)).toEqual([
      "dormant@0",
      "waking@0",
      "active@2",
      "dormant@400",
      "waking@500",
      "active@500.5",
      "dormant@800",
    ]);
    expect(states(trace.changes.get("b")!)).toEqual(["dormant@0", "waking@50", "active@52", "dormant@350"]);
    expect(settledAt(trace)).toBe(800 * S);
  });

  test("its figures over a window of 1000 s", () => {
    const f = figuresOf(trace, 1000 * S);
    expect(f).toMatchObject({ name: "autostop(PT5M)", kind: "autostop", wakes: 3, facts: 5, objectSeconds: 2000 });
    expect(f.seconds).toEqual({ active: 398 + 299.5 + 298, waking: 4.5, sleeping: 0, dormant: 1000, failed: 0 });
    // Waits: 2 s (a@0), 1 s (a@1), 0.5 s (a@500), 2 s (b@50).
    expect(f.waited).toEqual({ count: 4, unserved: 0, p50: 1, p99: 2, max: 2 });
    expect(f.saving).toBe(0.5);
  });

  test("a fact at the very moment of the stop keeps it running", () => {
    const t = runAutostop(workloadOf([fact(0, "a"), fact(10, "a")]), { startMs: 0, resumeMs: 0, quietMs: 10 * S });
    expect(states(t.changes.get("a")!)).toEqual(["dormant@0", "waking@0", "active@0", "dormant@20"]);
  });

  test("it does not stop before its start completes, however short the quiet time", () => {
    const t = runAutostop(workloadOf([fact(0, "a")]), { startMs: 5000, resumeMs: 0, quietMs: 1 * S });
    expect(states(t.changes.get("a")!)).toEqual(["dormant@0", "waking@0", "active@5", "dormant@5"]);
  });
});
