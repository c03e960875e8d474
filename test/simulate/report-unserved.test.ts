// docs/simulate.md, the report: the histogram's legend counts each row's served waits and its
// unserved facts. nightly-report on the shipped burst traffic never wakes (no report is asked
// for), so its 121 facts all wait unserved; its legend said "no waits" and its aria-label "0".
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runSimulateCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-sim-unserved-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a row whose facts all waited unserved: the histogram's legend says how many", async () => {
  const svg = join(dir, "r.svg");
  const args = [
    "--policy",
    "nightly-report",
    "--compare",
    "on-demand",
    "--traffic",
    "fixtures/traffic/queue-burst.jsonl",
  ];
  const { code, stdout } = await runSimulateCli([...args, "--report", svg, "--json"]);
  expect(code).toBe(0);
  const rows = JSON.parse(stdout).rows as { name: string; waited: { count: number; unserved: number } }[];
  expect(rows.find((r) => r.name === "nightly-report")?.waited).toMatchObject({ count: 121, unserved: 121 });
  const picture = readFileSync(svg, "utf8");
  expect(picture).toContain(">nightly-report (no served waits, 121 unserved)</text>");
  expect(picture).toMatch(
    /aria-label="How long facts waited for an active object: histogram of waits, nightly-report 0 \(121 unserved\), /,
  );
});
