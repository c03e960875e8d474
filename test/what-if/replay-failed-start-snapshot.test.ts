// Replay from a snapshot taken after a start failed for good: the object failed with its compute
// never started, and on the server the `substrate` fact read what was observed before the start
// (here nothing: {status: "unknown"}). The snapshot's seed took the failed start for one done, so
// the replay started the object with its compute running and its rules read {status: "running"}.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Retention } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-replay-failed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Wake on a backlog; any fact while the compute reads running sets a timer.
const policy = {
  name: "probe",
  version: "1",
  sleep: "stop",
  rules: [
    {
      name: "backlog",
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "running",
      conditions: { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "running" }] },
      event: { type: "schedule", params: { name: "seen", after: "PT1H" } },
    },
  ],
};

test("a replay from a snapshot after a start that failed for good does not read the compute running", async () => {
  const rules = join(dir, "rules");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(policy));
  const s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }), rulesDir: rules });
  try {
    const g = s.governor;
    (s.driver as unknown as { random: () => number }).random = () => 0;
    await g.putObject("w", {
      policy: "probe",
      memory: {},
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    await s.advance(60_000);
    await g.postFacts("w", { queue: { depth: 3 } });
    await s.advance(10 * 60_000);
    const failed = (await g.getObject("w"))!;
    expect(failed.state).toBe("failed");
    expect(failed.substrate.observed?.status ?? "unknown").not.toBe("running");
    // A fact after the failure: the snapshot folds the journal up to it.
    await g.postFacts("w", { queue: { depth: 0 } });
    await s.advance(3 * 3_600_000);
    const real = await g.postFacts("w", { note: 1 });
    await s.advance(60_000);
    expect(real.decision.fired.map((f) => f.rule)).toEqual([]);

    // (From the creation the replay differs: action failures are not replayed, its start is
    // confirmed. From the snapshot, the object starts failed, as it was.)
    // The journal before the last two hours folds into a snapshot: the object failed.
    const retention = new Retention(s.store, s.clock, {
      journalMs: 2 * 3_600_000,
      decisionsMs: null,
      decisionsPerObject: null,
      idempotencyMs: null,
    });
    expect((await retention.runOnce()).compacted).toBe(1);
    // The seed: failed, nothing observed of the compute (the start never brought it up).
    const [snapshot] = await s.store.journal("w", -1, 100);
    expect(snapshot).toMatchObject({ seq: 2, kind: "snapshot", seed: { state: "failed" } });
    expect(snapshot!.seed!.substrate).toBeUndefined();
    const report = await s.whatIf.replay("w", policy);
    expect(report.from).not.toBe(new Date(START).toISOString());
    expect(report.differences).toEqual([]);
  } finally {
    await s.close();
  }
});
