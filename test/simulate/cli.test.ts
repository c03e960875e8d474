// `vigil simulate` end to end on the shipped traffic: the JSON figures, the report files, the
// window, and usage errors (exit 2, a message on stderr, nothing on stdout).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import { commandUsage } from "../../src/cli/usage.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";

const TRAFFIC = "fixtures/traffic/queue-burst.jsonl";
const dir = mkdtempSync(join(tmpdir(), "vigil-simulate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSimulate(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("vigil simulate", () => {
  test("--help prints the usage and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r).toEqual({ code: 0, stdout: `${commandUsage("simulate")}\n`, stderr: "" });
    for (const flag of [
      "--policy",
      "--compare",
      "--traffic",
      "--db",
      "--object",
      "--start-latency",
      "--resume-latency",
    ])
      expect(r.stdout).toContain(flag);
  });

  test("--json: a row per policy in order, then the baseline, each adding up to objects x window", async () => {
    const r = await run([
      "--policy",
      "queue-worker",
      "--compare",
      "on-demand,queue-worker",
      "--traffic",
      TRAFFIC,
      "--autostop-after",
      "300000",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows.map((row: { name: string }) => row.name)).toEqual([
      "queue-worker",
      "on-demand",
      "autostop(PT5M)",
    ]);
    expect(report).toMatchObject({ objects: 3, facts: 121, ignoredFacts: 0, autostopAfter: "PT5M" });
    expect(report.latencies).toEqual({ startSeconds: 2, resumeSeconds: 2 });
    for (const row of report.rows) {
      const total = Object.values(row.seconds as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(3 * report.window.seconds, 6);
      expect(row.objectSeconds).toBeCloseTo(3 * report.window.seconds, 6);
      expect(row.saving).toBeCloseTo(row.seconds.dormant / row.objectSeconds, 12);
    }
    expect(report.rows[0].policy).toMatchObject({ name: "queue-worker", version: "1" });
    expect(report.rows[2].policy).toBeUndefined();
  });

  test("without --until the window ends when every object of every row is dormant again, at most 24 h after the last fact", async () => {
    const lastFact = Date.parse("2026-03-02T20:54:00Z");
    // on-demand sleeps at the last fact, the baseline five quiet minutes after it...
    const quick = JSON.parse(
      (await run(["--policy", "on-demand", "--traffic", TRAFFIC, "--autostop-after", "PT5M", "--json"])).stdout,
    );
    expect(quick.window.to).toBe(new Date(lastFact + 5 * 60_000).toISOString());
    // ...queue-worker's check-in keeps a worker up for good: 24 hours.
    const capped = JSON.parse((await run(["--policy", "queue-worker", "--traffic", TRAFFIC, "--json"])).stdout);
    expect(capped.window.to).toBe(new Date(lastFact + 24 * 3_600_000).toISOString());
  });

  test("--until ends the window there and leaves out the facts after it", async () => {
    const r = await run(["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "2026-03-02T12:00:00Z"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("3 objects, 98 facts, 2026-03-02T01:10:40.000Z to 2026-03-02T12:00:00.000Z");
    expect(r.stdout).toMatch(/\n23 facts after the end of the window were not replayed\n/);
  });

  test("--report FILE.svg writes the pictures, FILE.html the table and the pictures", async () => {
    const svg = join(dir, "r.svg");
    const html = join(dir, "r.html");
    const args = [
      "--policy",
      "on-demand",
      "--compare",
      "queue-worker",
      "--traffic",
      TRAFFIC,
      "--autostop-after",
      "PT5M",
    ];
    expect((await run([...args, "--report", svg, "--sample", "2"])).code).toBe(0);
    expect((await run([...args, "--report", html])).code).toBe(0);
    const picture = readFileSync(svg, "utf8");
    expect(picture).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* role="img" aria-label="vigil simulate: on-demand, queue-worker, autostop\(PT5M\)">/,
    );
    for (const title of [
      "on-demand: states of 2 of 3 objects",
      "queue-worker: states of 2 of 3 objects",
      "autostop(PT5M): states of 2 of 3 objects",
      "How long facts waited for an active object",
    ])
      expect(picture).toContain(`<title>${title}</title>`);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("saving");
    expect(page).toContain("on-demand: states of 3 of 3 objects");
    expect(page.match(/<svg /g)!.length).toBe(4);
  });

  test.each([
    [["--traffic", TRAFFIC], /--policy NAME is required/],
    [["--policy", "on-demand"], /give either --traffic FILE or --db URL/],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--db", "file:x.db"], /give either --traffic FILE or --db URL/],
    [["--policy", "on-demand", "--db", "file:x.db"], /--db needs at least one --object ID/],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--object", "w"], /--object goes with --db/],
    [
      ["--policy", "nope", "--traffic", TRAFFIC],
      /no policy "nope" in rules \(there: continuous-monitor, nightly-report, on-demand, queue-worker\)/,
    ],
    [["--policy", "on-demand", "--compare", "nope", "--traffic", TRAFFIC], /no policy "nope"/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--start-latency", "2s"],
      /--start-latency takes an ISO 8601 duration such as PT2S, or milliseconds, not "2s"/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--resume-latency", "PT11M"], /--resume-latency is at most PT10M/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--autostop-after", "P1M"],
      /--autostop-after takes an ISO 8601 duration/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "later"], /--until takes an ISO 8601 date-time/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "2026-03-01T00:00:00Z"],
      /--until 2026-03-01T00:00:00.000Z is before the first object's creation/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--report", "r.png"], /--report writes FILE\.svg or FILE\.html/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--rules", "/nonexistent"],
      /cannot read the policies in \/nonexistent/,
    ],
  ])("%j is exit 2 with a message", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^vigil simulate: /);
    expect(r.stderr).toMatch(message);
  });

  test("an object missing from --db is exit 2", async () => {
    const empty = new LibsqlStore({ url: `file:${join(dir, "empty.db")}` });
    await empty.migrate();
    await empty.close();
    const r = await run(["--policy", "on-demand", "--db", `file:${join(dir, "empty.db")}`, "--object", "ghost"]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe('vigil simulate: no object "ghost" in the database\n');
  });

  test("a fact a policy refuses names its line", async () => {
    const { writeFileSync } = await import("node:fs");
    const file = join(dir, "big.jsonl");
    // Past the default memory limit (256 KiB).
    writeFileSync(
      file,
      `${JSON.stringify({ at: "2026-03-02T00:00:00Z", objectId: "o", facts: { blob: "x".repeat(300_000) } })}\n`,
    );
    const r = await run(["--policy", "on-demand", "--traffic", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^vigil simulate: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} line 1: refused under on-demand: the facts break a memory limit`,
      ),
    );
  });
});
