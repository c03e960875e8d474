// Traffic files: the parser, and `vigil simulate` refusing a bad line with its number (exit 2).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import { SimulationError } from "../../src/simulate/model.ts";
import { parseTraffic } from "../../src/simulate/traffic.ts";

const line = (at: string, objectId: string, facts: unknown) => JSON.stringify({ at, objectId, facts });
const GOOD = line("2026-03-01T09:00:00Z", "w-1", { queue: { depth: 1 } });

describe("parseTraffic", () => {
  test("reads facts in time order, objects created at the first fact, blank lines skipped", () => {
    const text = [
      line("2026-03-01T09:00:05Z", "b", { n: 2 }),
      "",
      line("2026-03-01T09:00:00Z", "a", { n: 1 }),
      "   ",
      line("2026-03-01T09:00:05Z", "a", { n: 3 }),
    ].join("\n");
    const w = parseTraffic(text, "t.jsonl");
    const t0 = Date.parse("2026-03-01T09:00:00Z");
    expect(w.facts.map((f) => [f.at - t0, f.objectId, f.facts, f.source])).toEqual([
      [0, "a", { n: 1 }, "t.jsonl line 3"],
      // Same instant: the order of the file.
      [5000, "b", { n: 2 }, "t.jsonl line 1"],
      [5000, "a", { n: 3 }, "t.jsonl line 5"],
    ]);
    expect(w.objects).toEqual([
      { id: "a", createdAt: t0, memory: {} },
      { id: "b", createdAt: t0, memory: {} },
    ]);
  });

  test.each([
    ["not JSON", "{nope", /t\.jsonl line 2: not JSON/],
    ["a bad date", line("yesterday", "w-1", {}), /t\.jsonl line 2: \$\.at: not an ISO 8601 date-time/],
    [
      "a time past the year 9999",
      line("+010000-01-01T00:00:00Z", "w-1", {}),
      /t\.jsonl line 2: \$\.at: must fall from 0000-01-01T00:00:00\.000Z to 9999-12-31T23:59:59\.999Z in UTC/,
    ],
    ["a bad object id", line("2026-03-01T09:00:00Z", "a b", {}), /t\.jsonl line 2: \$\.objectId: object ids are/],
    ["facts that are not an object", line("2026-03-01T09:00:00Z", "w-1", [1]), /t\.jsonl line 2: \$\.facts/],
    [
      "an unknown field",
      JSON.stringify({ at: "2026-03-01T09:00:00Z", objectId: "w", facts: {}, x: 1 }),
      /line 2: \$\.x: unknown property/,
    ],
    ["a missing field", JSON.stringify({ at: "2026-03-01T09:00:00Z", facts: {} }), /line 2: \$\.objectId/],
    // The server refuses these facts (a key memory does not take): zod's record parsing dropped
    // an own `__proto__` key, and the fact arrived without it, a queue of 0 reported as nothing.
    [
      "a __proto__ key in the facts",
      '{"at": "2026-03-01T09:00:00Z", "objectId": "w", "facts": {"queue": {"__proto__": {"depth": 0}}}}',
      /line 2: \$\.facts\.queue\.__proto__: the key "__proto__" is not allowed/,
    ],
    // JSON.parse keeps the last of a key written twice: the first `at` or fact was dropped.
    [
      "a key written twice",
      '{"at": "2026-03-01T09:00:00Z", "at": "2026-03-01T10:00:00Z", "objectId": "w", "facts": {}}',
      /t\.jsonl line 2: \$\.at: the key "at" is written more than once in this object/,
    ],
    [
      "a fact written twice",
      '{"at": "2026-03-01T09:00:00Z", "objectId": "w", "facts": {"queue": {"depth": 3, "depth": 0}}}',
      /t\.jsonl line 2: \$\.facts\.queue\.depth: the key "depth" is written more than once/,
    ],
  ])("%s is refused, naming the line", (_what, bad, message) => {
    expect(() => parseTraffic(`${GOOD}\n${bad}\n${GOOD}\n`, "t.jsonl")).toThrow(message);
    expect(() => parseTraffic(`${GOOD}\n${bad}\n`, "t.jsonl")).toThrow(SimulationError);
  });

  test("a file without facts is refused", () => {
    expect(() => parseTraffic("\n\n", "t.jsonl")).toThrow(/t\.jsonl: no facts/);
  });
});

describe("vigil simulate: bad traffic", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-traffic-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a bad line is exit 2 with the file and line number on stderr, nothing on stdout", async () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, `${GOOD}\n${GOOD}\n${line("2026-13-45T00:00:00Z", "w-1", {})}\n`);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSimulate(
      ["--policy", "queue-worker", "--traffic", file],
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(`vigil simulate: ${file} line 3: $.at: not an ISO 8601 date-time\n`);
  });

  test("a time a Date holds but Vigil does not is exit 2 naming the line, not a failure to print the window", async () => {
    // The last day a Date holds: the window runs on to 24 hours after it, and the table's
    // toISOString threw, "vigil simulate: Invalid time value".
    const file = join(dir, "far.jsonl");
    writeFileSync(file, `${line("+275760-09-13T00:00:00Z", "w-1", { work: { pending: 1 } })}\n`);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSimulate(
      ["--policy", "on-demand", "--traffic", file],
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(
      `vigil simulate: ${file} line 1: $.at: must fall from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z in UTC\n`,
    );
  });

  test("a missing file is exit 2, said in words (not ENOENT and the system call)", async () => {
    const err: string[] = [];
    const file = join(dir, "none.jsonl");
    const code = await runSimulate(
      ["--policy", "queue-worker", "--traffic", file],
      () => {},
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(err.join("")).toBe(`vigil simulate: cannot read ${file}: no such file or directory\n`);
  });

  test("a --report that cannot be written is exit 2 with nothing on stdout (not the whole result first)", async () => {
    const file = join(dir, "good.jsonl");
    writeFileSync(file, `${GOOD}\n`);
    const out: string[] = [];
    const err: string[] = [];
    const report = join(dir, "no-such-dir", "report.svg");
    const code = await runSimulate(
      ["--policy", "queue-worker", "--traffic", file, "--json", "--report", report],
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(`vigil simulate: cannot write ${report}: no such file or directory\n`);
  });
});
