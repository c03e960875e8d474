// Replay from a snapshot that left the object dormant, its compute suspended: on the server the
// `substrate` fact read {status: "suspended"} from the suspend on, and a replay from the creation
// reads it so too. From the snapshot the replay's object started with nothing observed, so its
// rules read {status: "unknown"} and showed differences that never happened.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Retention } from "../../src/governor/retention.ts";
import { collectHistory, historyOf, readHistory } from "../../src/what-if/history.ts";
import { replay } from "../../src/what-if/replay.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-replay-dormant-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Wake on a backlog, suspend once it is empty; while suspended, any fact sets a timer.
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
      conditions: { all: [{ fact: "memory", path: "$.queue.depth", operator: "equal", value: 0 }] },
      event: { type: "dormancy" },
    },
    {
      name: "suspended",
      conditions: { all: [{ fact: "substrate", path: "$.status", operator: "equal", value: "suspended" }] },
      event: { type: "schedule", params: { name: "resident", after: "PT1H" } },
    },
  ],
};

const retentionOf = (s: Awaited<ReturnType<typeof makeServices>>) =>
  new Retention(s.store, s.clock, {
    journalMs: 2 * 3_600_000,
    decisionsMs: null,
    decisionsPerObject: null,
    idempotencyMs: null,
  });

test("a replay from a snapshot of a dormant, suspended object reads its compute suspended, as the server did", async () => {
  const rules = join(dir, "rules");
  mkdirSync(rules);
  writeFileSync(join(rules, "probe.json"), JSON.stringify(policy));
  const s = await makeServices({ store: new LibsqlStore({ url: ":memory:" }), rulesDir: rules });
  try {
    const g = s.governor;
    await g.putObject("w", { policy: "probe", memory: {} });
    await s.advance(60_000);
    await g.postFacts("w", { queue: { depth: 3 } });
    await s.advance(60_000);
    expect((await g.getObject("w"))!.state).toBe("active");
    await g.postFacts("w", { queue: { depth: 0 } });
    await s.advance(3 * 3_600_000);
    expect((await g.getObject("w"))!.state).toBe("dormant");
    const real = await g.postFacts("w", { note: 1 });
    await s.advance(60_000);
    expect(real.object.substrate.observed?.status).toBe("suspended");
    expect(real.decision.fired.map((f) => f.rule)).toEqual(["empty", "suspended"]);

    // From the creation, the replay matches.
    expect((await s.whatIf.replay("w", policy)).differences).toEqual([]);

    // The journal before the last two hours folds into a snapshot: the object dormant, suspended.
    expect((await retentionOf(s).runOnce()).compacted).toBe(1);
    expect((await s.store.journal("w", -1, 100))[0]).toMatchObject({ seq: 2, kind: "snapshot" });

    const report = await s.whatIf.replay("w", policy);
    expect(report.from).toBe(new Date(START + 120_000).toISOString());
    expect(report.differences).toEqual([]);
    expect(report.candidateDecisions).toBe(report.actualDecisions);

    // A snapshot an older Vigil wrote has no status of the compute: it still replays, the
    // dormant object's compute unknown, as docs/policy-authors.md says.
    const object = (await s.store.getObject("w"))!;
    const { decisions, journal } = await collectHistory(readHistory(s.store, object));
    const { substrate, ...older } = journal[0]!.seed!;
    expect(substrate).toMatchObject({ status: "suspended" });
    const old = await replay(
      object,
      historyOf({ decisions, journal: [{ ...journal[0]!, seed: older }, ...journal.slice(1)] }),
      policy,
    );
    expect(old.from).toBe(report.from);
    expect(old.differences.map((d) => [d.key, d.actual?.fired, d.candidate?.fired])).toEqual([
      ["facts#3", ["empty", "suspended"], ["empty"]],
    ]);
  } finally {
    await s.close();
  }
});
