// The fixture runner itself: it must fail on a wrong expectation of every kind, report the
// step, the expected and the actual value, and tell a malformed fixture apart (exit 2).

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  FixtureError,
  parseFixture,
  runFixture,
  formatFailure,
  type LoadedFixture,
} from "../../src/what-if/fixtures.ts";
import { runTest } from "../../src/cli/test.ts";
import { formatCoverage, policyCoverage } from "../../src/what-if/coverage.ts";
import type { PolicyDocument } from "../../src/core/policy.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { RULES_DIR } from "../helpers/services.ts";

const registry = new PolicyRegistry();
registry.loadDirectory(RULES_DIR);

const good = {
  policy: "nightly-report",
  start: "2026-03-01T02:00:00Z",
  steps: [
    {
      facts: { report: { requested: true } },
      expect: { outcome: "wake", state: "active", actions: ["start"], fired: ["report-requested"], timers: [] },
    },
    {
      facts: { report: { requested: false, status: "sent" } },
      expect: { outcome: "dormancy", state: "dormant", timers: ["wake"], memory: { report: { status: "sent" } } },
    },
    { advance: "PT1H", expect: { state: "active", outcome: "wake" } },
  ],
};

const run = (doc: unknown) => runFixture(parseFixture(JSON.stringify(doc), "inline.json") as LoadedFixture, registry);

function withExpect(step: number, field: string, value: unknown) {
  const doc = structuredClone(good) as { steps: { expect: Record<string, unknown> }[] };
  doc.steps[step]!.expect[field] = value;
  return doc;
}

describe("the fixture runner", () => {
  test("an error names the step it came in", async () => {
    // Nesting deeper than memory allows: the arrival of the second step is refused.
    let deep: Record<string, unknown> = { x: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const doc = { ...good, steps: [good.steps[0], { facts: deep }] };
    const r = await run(doc);
    expect(r.failures.map((f) => [f.step, f.field])).toEqual([[1, "error"]]);
    expect(formatFailure(r.failures[0]!)).toMatch(/^step 2: error: /);
    // ... and where in the fixture, and why: the path of the step's facts, and the limit.
    expect(formatFailure(r.failures[0]!)).toMatch(/\$\.steps\[1\]\.facts\.d\.d(\.d)*: nesting deeper than 16 levels/);
  });

  test("passes the correct fixture", async () => {
    const r = await run(good);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
  });

  test.each([
    ["state", 0, "dormant", "active"],
    ["outcome", 1, "wake", "dormancy"],
    ["fired", 0, ["report-sent"], ["report-requested"]],
    ["actions", 0, ["stop"], ["start"]],
    ["actions", 1, [], ["stop"]],
    ["timers", 1, [], ["wake"]],
    ["timers", 0, ["wake"], []],
    ["memory", 1, { report: { status: "queued" } }, { report: { requested: false, status: "sent" } }],
    ["outcome", 2, "dormancy", "wake"],
  ])("fails on a wrong %s (step %i) and shows expected and actual", async (field, step, wrong, actual) => {
    const r = await run(withExpect(step, field, wrong));
    expect(r.passed).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toEqual({
      step,
      field,
      expected: field === "fired" || field === "timers" ? [...(wrong as string[])].sort() : wrong,
      actual,
    });
    expect(formatFailure(r.failures[0]!)).toContain(`step ${step + 1}: ${field}: expected`);
  });

  test("fails when the step had no evaluation but an outcome is expected", async () => {
    const doc = structuredClone(good) as { steps: unknown[] };
    doc.steps.push({ advance: "PT1M", expect: { outcome: "none" } });
    const r = await run(doc);
    expect(r.failures).toEqual([
      { step: 3, field: "outcome", expected: "none", actual: "(no evaluation in this step)" },
    ]);
  });

  test("fails on an unknown policy", async () => {
    const r = await run({ ...good, policy: "nope" });
    expect(r.passed).toBe(false);
    expect(r.failures[0]).toMatchObject({ field: "policy", expected: "nope" });
  });

  // Ids count their time from 1970: before it, every timer step failed with "minting ids: the
  // newest decision or action id was minted at 1969-12-31T23:59:59.999Z, ... check the clocks".
  test("refuses a start before 1970, and runs one at 1970-01-01T00:00:00Z", async () => {
    expect(() => parseFixture(JSON.stringify({ ...good, start: "1969-12-31T23:00:00Z" }), "old.json")).toThrow(
      "old.json: $.start: must be 1970-01-01T00:00:00Z or later",
    );
    const r = await run({ ...good, start: "1970-01-01T00:00:00Z" });
    expect(r.failures).toEqual([]);
  });

  test.each([
    [{ ...good, steps: [{ facts: {}, advance: "PT1M" }] }, "$.steps[0]"],
    [{ ...good, steps: [{ advance: "1 hour" }] }, "$.steps[0].advance"],
    [{ ...good, steps: [{ advance: "P40000D" }] }, "$.steps[0].advance"],
    [{ ...good, start: "yesterday" }, "$.start"],
    [{ ...good, steps: [{ facts: {}, expect: { state: "asleep" } }] }, "$.steps[0].expect.state"],
    [{ ...good, steps: [{ facts: {}, expect: { colour: "red" } }] }, "$.steps[0].expect.colour"],
    // In motion, with no action pending to carry it on, the object would stay there.
    [{ ...good, object: { state: "waking" } }, "$.object.state"],
    [{ ...good, object: { state: "sleeping" } }, "$.object.state"],
  ])("refuses a malformed fixture %#, naming %s", (doc, path) => {
    let error: unknown;
    try {
      parseFixture(JSON.stringify(doc), "bad.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FixtureError);
    expect((error as FixtureError).problems.map((p) => p.path)).toContain(path);
  });
});

describe("vigil test", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-fixtures-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, doc: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
    return file;
  };
  const cli = async (args: string[]) => {
    let out = "";
    const code = await runTest(["--rules", RULES_DIR, ...args], (s) => (out += s));
    return { code, out };
  };

  test("exit 0 when all pass, each case shown", async () => {
    const { code, out } = await cli([write("ok.json", good)]);
    expect(code).toBe(0);
    expect(out).toMatch(/^pass {2}.*ok\.json/m);
    expect(out).toContain("1 passed, 0 failed");
  });

  test("exit 1 when one fails, with the step, expected and actual", async () => {
    const { code, out } = await cli([write("ok2.json", good), write("wrong.json", withExpect(1, "state", "active"))]);
    expect(code).toBe(1);
    expect(out).toContain('step 2: state: expected "active", got "dormant"');
    expect(out).toContain("1 passed, 1 failed");
  });

  test("hidden entries of a directory are not fixtures (an editor's lock file, a dangling symlink)", async () => {
    const sub = mkdtempSync(join(dir, "hidden-"));
    writeFileSync(join(sub, "ok.json"), JSON.stringify(good));
    symlinkSync("someone@host.4242:1700000000", join(sub, ".#ok.json"));
    writeFileSync(join(sub, ".draft.json"), "{ not json");
    const { code, out } = await cli([sub]);
    expect(code).toBe(0);
    expect(out).toContain("1 passed, 0 failed");
    // Named on the command line, a file is taken whatever its name.
    expect((await cli([join(sub, ".draft.json")])).code).toBe(2);
  });

  test("a file named and also in a named directory runs once", async () => {
    const sub = mkdtempSync(join(dir, "twice-"));
    writeFileSync(join(sub, "ok.json"), JSON.stringify(good));
    symlinkSync("ok.json", join(sub, "same.json"));
    const { code, out } = await cli([sub, join(sub, "ok.json"), join(sub, "same.json")]);
    expect(code).toBe(0);
    expect(out).toContain("1 passed, 0 failed");
  });

  test("exit 2 when a fixture is malformed, naming the file and path", async () => {
    const bad = write("bad.json", { ...good, steps: [] });
    const { code, out } = await cli([bad]);
    expect(code).toBe(2);
    expect(out).toContain(`${bad} $.steps:`);
    const syntax = write("syntax.json", "{ not json");
    expect((await cli([syntax])).code).toBe(2);
    const proto = write(
      "proto.json",
      `{"policy": "nightly-report", "start": "2026-03-01T00:00:00Z", "steps": [{"facts": {"__proto__": {"x": 1}}}]}`,
    );
    const p = await cli([proto]);
    expect(p.code).toBe(2);
    expect(p.out).toContain(`${proto} $.steps[0].facts.__proto__: the key "__proto__" is not allowed`);
    const unknown = write("unknown.json", { ...good, policy: "nope" });
    const u = await cli([unknown]);
    expect(u.code).toBe(2);
    expect(u.out).toContain(`${unknown} $.policy: no policy "nope"`);
  });
});

describe("coverage", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-coverage-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("lists rules never fired and conditions never true or false", async () => {
    const r = await run(good);
    const info = registry.get("nightly-report")!;
    const c = policyCoverage(info.document as PolicyDocument, r.decisions);
    expect(c.rules).toEqual([
      { name: "report-requested", fired: true },
      { name: "report-sent", fired: true },
      { name: "check-in", fired: true },
      { name: "deadline-near", fired: false },
    ]);
    expect(c.conditions).toContainEqual({ path: "$.rules[3].conditions.all[0]", seenTrue: false, seenFalse: true });
    expect(c.conditions).toContainEqual({ path: "$.rules[0].conditions.all[0]", seenTrue: true, seenFalse: true });
    // 3 of 4 rules; the conditions: all[0] of report-requested t+f, report-sent's two t+f, deadline's
    // first only false, its second never evaluated (json-rules-engine evaluates both in one priority).
    expect(c.percent).toBeLessThan(100);
    expect(formatCoverage(c)).toContain("rule never fired: deadline-near");
  });

  test("--min-coverage fails below the threshold and passes at or under it", async () => {
    const file = join(dir, "partial.json");
    writeFileSync(file, JSON.stringify(good));
    // A rules directory of the one policy the fixture runs.
    const rules = join(dir, "rules");
    mkdirSync(rules);
    copyFileSync(join(RULES_DIR, "nightly-report.json"), join(rules, "nightly-report.json"));
    let out = "";
    const low = await runTest(["--rules", rules, "--min-coverage", "100", file], (s) => (out += s));
    expect(low).toBe(1);
    expect(out).toMatch(/nightly-report: \d+(\.\d)?%/);
    expect(out).toContain("below the minimum of 100%");
    expect(await runTest(["--rules", rules, "--min-coverage", "10", file], () => {})).toBe(0);
  });

  test("--min-coverage counts a policy of the directory that no fixture ran, at 0%", async () => {
    const file = join(dir, "partial-all.json");
    writeFileSync(file, JSON.stringify(good));
    let out = "";
    // nightly-report is above 10%; the directory's other policies have no fixture here.
    expect(await runTest(["--rules", RULES_DIR, "--min-coverage", "10", file], (s) => (out += s))).toBe(1);
    expect(out).toContain("on-demand: 0% (no fixture ran it)\n  below the minimum of 10%\n");
    expect(out).toMatch(/nightly-report: \d+(\.\d)?%\n(?! {2}below)/);
  });
});
