// The window without --until (docs/simulate.md): each row runs until its own objects are first
// all dormant after the last fact, and the window ends at the latest of those moments; a row
// that settled earlier may be awake again by then, and is measured so. It ends on
// 9999-12-31 at the latest.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { simulate } from "../../src/simulate/simulate.ts";
import { parseTraffic } from "../../src/simulate/traffic.ts";
import type { Trace } from "../../src/simulate/model.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { runSimulateCli } from "./run-cli.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-03-02T00:00:00Z");

/** The state each object of a trace is in at `at` (the last change at or before it). */
function statesAt(trace: Trace, at: number): string[] {
  return [...trace.changes.values()].map((list) => list.filter((c) => c.at <= at).at(-1)!.state);
}

test("the window ends when the last row settles, a row that woke again meanwhile measured awake", async () => {
  const registry = new PolicyRegistry();
  registry.loadDirectory(RULES_DIR);
  // queue-worker: awake at 00:00 (2 s start), idle at 00:01, asleep at 00:02 (dwell.minActive
  // PT2M), its 6-hour check-in wakes it at 06:02 and, with no fact after, it stays awake.
  // autostop(PT7H): awake from 00:00 until 07:01.
  // The window ends when the baseline settles, 07:01, with queue-worker awake again.
  const workload = parseTraffic(
    [
      '{"at":"2026-03-02T00:00:00Z","objectId":"a","facts":{"queue":{"depth":1}}}',
      '{"at":"2026-03-02T00:01:00Z","objectId":"a","facts":{"queue":{"depth":0}}}',
    ].join("\n"),
    "t.jsonl",
  );
  const r = await simulate({
    registry,
    policies: ["queue-worker"],
    workload,
    latencies: { startMs: 2000, resumeMs: 2000 },
    autostopMs: 7 * HOUR,
    until: null,
  });
  const atEnd = Object.fromEntries(r.traces.map((t) => [t.name, statesAt(t, r.to)]));
  expect({ to: new Date(r.to).toISOString(), atEnd }).toEqual({
    to: new Date(T0 + 60_000 + 7 * HOUR).toISOString(),
    atEnd: { "queue-worker": ["active"], "autostop(PT7H)": ["dormant"] },
  });
});

test("without --until, the window ends at 9999-12-31T23:59:59.999Z at the latest, never in year 10000", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-window-"));
  try {
    const file = join(dir, "late.jsonl");
    // queue-worker stays awake (its tail would run 24 h), the baseline stops after two days.
    writeFileSync(file, '{"at":"9999-12-31T12:00:00Z","objectId":"a","facts":{"queue":{"depth":1}}}\n');
    const args = ["--policy", "queue-worker", "--traffic", file, "--autostop-after", "P2D"];
    const json = await runSimulateCli([...args, "--json"]);
    expect(json.stderr).toBe("");
    const window = (JSON.parse(json.stdout) as { window: unknown }).window;
    expect(window).toEqual({ from: "9999-12-31T12:00:00.000Z", to: "9999-12-31T23:59:59.999Z", seconds: 43_199.999 });
    const text = await runSimulateCli(args);
    expect(text.stdout).toContain("9999-12-31T12:00:00.000Z to 9999-12-31T23:59:59.999Z (12h00m)");
    expect(text.stdout).not.toContain("10000");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
