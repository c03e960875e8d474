// A simulation keeps none of what it plays in its sandbox's store: it reads the governor's events.
// Kept, a month of one object's facts (about 260,000 at one every 10 s) grew the store by every
// journal entry and decision, and each commit checked its entry against the whole journal: 100,000
// facts took 259 s and 1.2 GB where 20,000 took 13 s.

import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { PolicyRun } from "../../src/simulate/policy-run.ts";
import { parseTraffic } from "../../src/simulate/traffic.ts";
import { RULES_DIR } from "../helpers/services.ts";

test("a policy run stores no journal, decision or action, and still sees every decision", async () => {
  const t0 = Date.parse("2026-03-01T09:00:00Z");
  const lines = Array.from({ length: 300 }, (_, k) =>
    JSON.stringify({
      at: new Date(t0 + k * 10_000).toISOString(),
      objectId: "w-1",
      facts: { queue: { depth: Math.floor(k / 5) % 2 }, jobs: { inflight: Math.floor(k / 7) % 2 } },
    }),
  );
  const registry = new PolicyRegistry();
  registry.loadDirectory(RULES_DIR);
  const run = await PolicyRun.create(registry, "queue-worker", parseTraffic(lines.join("\n"), "t.jsonl"), {
    startMs: 1000,
    resumeMs: 0,
  });
  try {
    await run.play(null, 3_600_000);
    // The creation's evaluation and one a fact at least: the run saw them all.
    expect(run.decisions.length).toBeGreaterThanOrEqual(301);
    expect(run.decisions.filter((d) => d.outcome === "wake").length).toBeGreaterThan(1);
    const { store } = run.sandbox;
    expect(await store.journal("w-1", -1, 1_000_000)).toEqual([]);
    expect(await store.listDecisions("w-1", 1_000)).toEqual([]);
    expect(await store.pendingActions()).toEqual([]);
    expect((await store.getObject("w-1"))?.memoryVersion).toBeGreaterThanOrEqual(300);
  } finally {
    await run.sandbox.close();
  }
});
