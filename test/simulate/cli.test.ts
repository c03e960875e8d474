// `vigil simulate` end to end on the shipped traffic: the JSON figures, the report files, the
// window, and usage errors (exit 2, a message on stderr, nothing on stdout).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { runSimulateCli } from "./run-cli.ts";
import { commandUsage } from "../../src/cli/usage.ts";
import { generateTraffic } from "../../src/simulate/generate.ts";
import { parseTraffic } from "../../src/simulate/traffic.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";

const TRAFFIC = "fixtures/traffic/queue-burst.jsonl";
const dir = mkdtempSync(join(tmpdir(), "vigil-simulate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runSimulateCli;

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

  test("the baseline is named with --autostop-after as written: P1W stays P1W, not P7D", async () => {
    for (const [after, name] of [
      ["P1W", "autostop(P1W)"],
      ["PT0.50S", "autostop(PT0.50S)"],
      ["300000", "autostop(PT5M)"],
    ]) {
      const args = ["--policy", "on-demand", "--traffic", TRAFFIC, "--autostop-after", after!];
      const report = JSON.parse((await run([...args, "--json"])).stdout);
      expect(report.rows.map((row: { name: string }) => row.name)).toEqual(["on-demand", name]);
      expect(report.autostopAfter).toBe(name!.slice("autostop(".length, -1));
      expect((await run(args)).stdout).toContain(`\n${name} `);
    }
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
    [["--policy", ",", "--traffic", TRAFFIC], /--policy NAME is required/],
    [["--policy", "on-demand"], /give either --traffic FILE or --db URL/],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--db", "file:x.db"], /give either --traffic FILE or --db URL/],
    [["--policy", "on-demand", "--db", "file:x.db"], /--db needs at least one --object ID/],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--object", "w"], /--object goes with --db/],
    [
      ["--policy", "nope", "--traffic", TRAFFIC],
      /no policy "nope" in rules \(there: continuous-monitor, nightly-report, on-demand, queue-worker; the policy directory, from the default; give --rules DIR or set VIGIL_RULES_DIR\)/,
    ],
    [["--policy", "on-demand", "--compare", "nope", "--traffic", TRAFFIC], /no policy "nope"/],
    [["--policy", "on-demand", "--compare", "", "--traffic", TRAFFIC], /--compare "" names no policy\n$/],
    [
      ["--policy", "on-demand", "--compare", "queue-worker", "--compare", ",", "--traffic", TRAFFIC],
      /--compare "," names no policy/,
    ],
    [["--policy", "on-demand", "--db", "file:x.db", "--object", "a", "--object", ""], /--object "" names no object\n$/],
    [["--policy", "on-demand", "--traffic", ""], /--traffic: must not be empty\n$/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--start-latency", "2s"],
      /--start-latency takes an ISO 8601 duration such as PT2S, or milliseconds, not "2s"/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--resume-latency", "PT11M"], /--resume-latency is at most PT10M/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--autostop-after", "P1M"],
      /--autostop-after takes an ISO 8601 duration/,
    ],
    // Past 100 years, in milliseconds as in ISO 8601: too long, and said so (the milliseconds ran).
    ...["3153600000001", "9007199254740991", "99999999999999999999", "P36501D"].map(
      (after) =>
        [
          ["--policy", "on-demand", "--traffic", TRAFFIC, "--autostop-after", after],
          new RegExp(`--autostop-after is at most 100 years \\(P36500D, or 3153600000000 ms\\), not "${after}"`),
        ] as [string[], RegExp],
    ),
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--start-latency", "99999999999999999999"],
      /--start-latency is at most PT10M \(the simulated substrate's limit\), not "99999999999999999999"/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "later"], /--until takes an ISO 8601 date-time/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "+010000-01-01T00:00:00Z"],
      /--until must fall from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z in UTC/,
    ],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--until", "2026-03-01T00:00:00Z"],
      /--until 2026-03-01T00:00:00.000Z is before the first object's creation/,
    ],
    [["--policy", "on-demand", "--traffic", TRAFFIC, "--report", "r.png"], /--report writes FILE\.svg or FILE\.html/],
    [
      ["--policy", "on-demand", "--traffic", TRAFFIC, "--rules", "/nonexistent"],
      /cannot read the policies in \/nonexistent: no such file or directory \(the policy directory, from --rules\)\n$/,
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

// A policy whose rule throws on the memory an object starts with (swap:in on a missing path)
// fails the object's creation. A review found it escaped as the governor's bare error: no line,
// no object, and without the problem saying where the rule is.
test("an object a policy cannot create names the line of its first fact, the object and the rule", async () => {
  const rules = join(dir, "throwing-rules");
  mkdirSync(rules);
  const policy = {
    name: "boom",
    version: "1",
    rules: [
      {
        name: "looks-in-n",
        conditions: { all: [{ fact: "memory", path: "$.n", operator: "swap:in", value: 5 }] },
        event: { type: "wake" },
      },
    ],
  };
  writeFileSync(join(rules, "boom.json"), JSON.stringify(policy));
  const file = join(dir, "boom.jsonl");
  writeFileSync(file, `${JSON.stringify({ at: "2026-03-02T00:00:00Z", objectId: "w-1", facts: { x: 1 } })}\n`);
  const r = await run(["--rules", rules, "--policy", "boom", "--traffic", file]);
  expect(r).toMatchObject({ code: 2, stdout: "" });
  expect(r.stderr).toBe(
    `vigil simulate: ${file} line 1: w-1 cannot be created under boom: policy boom@1 failed to evaluate: ` +
      `rule "looks-in-n": Cannot read properties of undefined (reading 'indexOf'); ` +
      `$: an operator of rules[0] of boom.json received a value of the wrong type from a fact it reads (memory, the trigger...): fix the rule, or the memory\n`,
  );
});

// At its edges: traffic times read the same in every time zone (ISO 8601 only, without a zone
// UTC), generated ids that a tenth object does not rename, a mode's options refused in the other.
describe('traffic `at` (docs/simulate.md: "`at`: an ISO 8601 date-time")', () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = savedTz;
  });

  test("a line whose `at` is not ISO 8601 is refused (exit 2 naming the line)", () => {
    const text = '{"at": "March 2, 2026 00:00:10", "objectId": "a", "facts": {}}\n';
    expect(() => parseTraffic(text, "t.jsonl")).toThrow(/t\.jsonl line 1/);
  });

  test("the same traffic file gives the same times whatever the machine's time zone", () => {
    const text = '{"at": "2026-03-02T00:00:00", "objectId": "a", "facts": {}}\n';
    process.env.TZ = "UTC";
    const utc = parseTraffic(text, "t.jsonl").facts[0]!.at;
    process.env.TZ = "America/New_York";
    const ny = parseTraffic(text, "t.jsonl").facts[0]!.at;
    expect(ny).toBe(utc); // HEAD: 5 hours apart
  });

  test("--until is read the same whatever the machine's time zone", async () => {
    const file = join(dir, "t.jsonl");
    writeFileSync(
      file,
      '{"at":"2026-03-02T00:00:00Z","objectId":"a","facts":{"work":{"pending":1}}}\n' +
        '{"at":"2026-03-02T00:00:10Z","objectId":"a","facts":{"work":{"pending":0}}}\n',
    );
    process.env.TZ = "Asia/Tokyo";
    const r = await run(["--policy", "on-demand", "--traffic", file, "--until", "2026-03-02T00:00:05", "--json"]);
    // HEAD: exit 2, "--until 2026-03-01T15:00:05.000Z is before the first object's creation"
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe('--generate (docs/simulate.md: "N objects (default 10, named `SHAPE-1`…)" and "more objects leave the first objects\' traffic as it was")', () => {
  const opts = { shape: "burst" as const, days: 1, seed: 1, start: Date.parse("2026-03-02T00:00:00Z") };

  test("the default 10 objects are named burst-1 … burst-10", () => {
    const ids = new Set(generateTraffic({ ...opts, objects: 10 }).map((l) => l.objectId));
    expect(ids.has("burst-1")).toBe(true); // HEAD: burst-01 … burst-10
  });

  test("a tenth object leaves the first object's traffic as it was", () => {
    const nine = generateTraffic({ ...opts, objects: 9 }).filter((l) => l.objectId === "burst-1");
    const ten = generateTraffic({ ...opts, objects: 10 }).filter((l) => l.objectId === "burst-1");
    expect(nine.length).toBeGreaterThan(0);
    expect(ten).toEqual(nine); // HEAD: [] (the object became burst-01)
  });
});

describe('options of the other mode are invalid usage (docs: "`2` invalid usage")', () => {
  test("--seed/--objects with --traffic are not silently ignored", async () => {
    const file = join(dir, "t2.jsonl");
    writeFileSync(file, '{"at":"2026-03-02T00:00:00Z","objectId":"a","facts":{"work":{"pending":1}}}\n');
    const r = await run(["--policy", "on-demand", "--traffic", file, "--seed", "3", "--objects", "5"]);
    expect(r.code).toBe(2); // HEAD: 0, the flags ignored
    expect(r.stderr).toContain("--seed, --objects go with --generate, not with a simulation");
    const one = await run(["--policy", "on-demand", "--traffic", file, "--seed", "3"]);
    expect(one.stderr).toContain("--seed goes with --generate, not with a simulation");
  });

  test("--policy with --generate is not silently ignored", async () => {
    const r = await run(["--generate", "burst", "--policy", "on-demand", "--autostop-after", "PT5M"]);
    expect(r.code).toBe(2); // HEAD: 0, traffic printed, no simulation
  });
});
