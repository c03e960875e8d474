// Replay from a snapshot that left the object active: its compute was running on the server (the
// `substrate` fact read {status: "running"}), so a suspend kept it resident and the fact read
// {status: "suspended"} afterwards. The replay's sandbox must hold that compute too, or its rules
// read {status: "unknown"} and its suspend is answered `stopped` (nothing to suspend): rules on
// either show differences that never happened.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Retention } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-replay-resident-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Sleep by suspending once the queue is empty, compute that is running; set a timer while it is
// suspended.
const policy = {
  name: "probe",
  version: "1",
  sleep: "suspend",
  rules: [
    {
      name: "backlog",
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
    {
      name: "empty",
      conditions: {
        all: [
          { fact: "memory", path: "$.queue.depth", operator: "equal", value: 0 },
          { fact: "substrate", path: "$.status", operator: "equal", value: "running" },
        ],
      },
      event: { type: "dormancy" },
    },
    {
      name: "suspended",
      conditions: { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "suspended" }] },
      event: { type: "schedule", params: { name: "resident", after: "PT1H" } },
    },
  ],
};

test("a replay from a snapshot of an active object suspends its compute, as the server did", async () => {
  const rules = join(dir, "rules");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(policy));
  const s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }), rulesDir: rules });
  try {
    const g = s.governor;
    await g.putObject("w", { policy: "probe", memory: {} });
    await s.advance(60_000);
    await g.postFacts("w", { queue: { depth: 3 } });
    await s.advance(3 * 3_600_000);
    expect((await g.getObject("w"))!.state).toBe("active");
    await g.postFacts("w", { queue: { depth: 0 } });
    await s.advance(60_000);
    const real = await g.postFacts("w", { note: 1 });
    await s.advance(60_000);
    expect(real.object.substrate.observed?.status).toBe("suspended");
    expect(real.decision.fired.map((f) => f.rule)).toEqual(["suspended"]);

    // The journal before the last two hours folds into a snapshot: the object active, with a backlog.
    const retention = new Retention(s.store, s.clock, {
      journalMs: 2 * 3_600_000,
      decisionsMs: null,
      decisionsPerObject: null,
      idempotencyMs: null,
    });
    expect((await retention.runOnce()).compacted).toBe(1);
    expect((await s.store.journal("w", -1, 100))[0]).toMatchObject({ seq: 1, kind: "snapshot" });

    const report = await s.whatIf.replay("w", policy);
    expect(report.from).toBe(new Date(START + 60_000).toISOString());
    expect(report.differences).toEqual([]);
    expect(report.candidateDecisions).toBe(report.actualDecisions);
  } finally {
    await s.close();
  }
});
