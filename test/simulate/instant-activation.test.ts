// docs/simulate.md, the window: the baseline stopping as its start completes (--autostop-after
// no longer than the latency) is active for no time, at the instant the start completes. Its
// facts were served then; but when that instant was the window's end (the last row to settle
// was the baseline), they were counted unserved, and when a policy settled later, served: on
// the same traffic, autostop(PT1S)'s unserved was 1 beside on-demand and 0 beside queue-worker.
// Through the real binary.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-instant-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  name: string;
  seconds: { active: number; waking: number };
  waited: { count: number; unserved: number; p50: number | null; max: number | null };
}

const simulate = (traffic: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, "simulate", "--traffic", traffic, ...args, "--json"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout) as { window: { to: string }; rows: Row[] };
};

test("the baseline's facts served as its start completes are served whichever rows end the window", () => {
  // A fact wakes the object at 00:00 and another at 00:00:10: with a start of 2 s and a quiet
  // time of 1 s the baseline is active at 00:00:02 and 00:00:12, each for no time. on-demand
  // does not wake on these facts (the baseline ends the window, at 00:00:12); queue-worker does
  // and keeps the object awake two minutes.
  const traffic = join(dir, "two.jsonl");
  writeFileSync(
    traffic,
    [
      '{"at":"2026-03-02T00:00:00Z","objectId":"a","facts":{"queue":{"depth":1}}}',
      '{"at":"2026-03-02T00:00:10Z","objectId":"a","facts":{"queue":{"depth":0}}}',
    ].join("\n") + "\n",
  );
  const baseline = (policy: string) => {
    const r = simulate(traffic, "--policy", policy, "--autostop-after", "PT1S");
    return { to: r.window.to, row: r.rows.find((row) => row.name === "autostop(PT1S)")! };
  };
  const alone = baseline("on-demand");
  const beside = baseline("queue-worker");
  expect([alone.to, beside.to]).toEqual(["2026-03-02T00:00:12.000Z", "2026-03-02T00:02:00.000Z"]);
  const served = { count: 2, unserved: 0, p50: 2, p99: 2, max: 2 };
  expect(alone.row.waited).toEqual(served);
  expect(beside.row.waited).toEqual(served);
  expect([alone.row.seconds.active, beside.row.seconds.active]).toEqual([0, 0]);
});

test("an autostop after 1 ms, the only row to wake, serves its fact at the window's end", () => {
  const traffic = join(dir, "one.jsonl");
  writeFileSync(traffic, '{"at":"2026-03-02T00:00:00Z","objectId":"a","facts":{"queue":{"depth":0}}}\n');
  const r = simulate(traffic, "--policy", "queue-worker", "--autostop-after", "PT0.001S");
  expect(r.window.to).toBe("2026-03-02T00:00:02.000Z");
  expect(r.rows.map((row) => [row.name, row.seconds.active, row.waited.unserved, row.waited.max])).toEqual([
    ["queue-worker", 0, 1, null],
    ["autostop(PT0.001S)", 0, 0, 2],
  ]);
});
