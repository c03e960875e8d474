// --json on the local commands: `vigil validate`, `test` and `schema` print one JSON document
// on stdout with the same verdict and exit code as their text; what is not part of the report
// (a bad option, a missing path) goes to stderr, so stdout stays parseable or empty.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runSchema } from "../../src/cli/schema.ts";
import { runTest } from "../../src/cli/test.ts";
import { runValidate } from "../../src/cli/validate.ts";
import { policyJsonSchemaText } from "../../src/contracts/json-schema.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { vigil } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Local = (args: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>;
async function local(entry: Local, args: string[]) {
  let out = "";
  let err = "";
  const code = await entry(
    args,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

const FIXTURE = join(process.cwd(), "fixtures", "queue-worker");

describe("vigil validate --json", () => {
  test("every file with its policy or its errors; the exit code as in text", async () => {
    const broken = join(dir, "broken.json");
    writeFileSync(
      broken,
      JSON.stringify({
        name: "b",
        version: "1",
        rules: [{ name: "r", conditions: { all: [] }, event: { type: "nap" } }],
      }),
    );
    const good = join(RULES_DIR, "queue-worker.json");
    const r = await local(runValidate, ["--json", good, broken]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ valid: 1, invalid: 1 });
    expect(report.files[0]).toEqual({
      file: good,
      valid: true,
      policy: { name: "queue-worker", version: "1", rules: 3 },
      warnings: [],
      errors: [],
    });
    expect(report.files[1]).toMatchObject({ file: broken, valid: false, warnings: [] });
    expect(report.files[1].errors.map((e: { path: string }) => e.path)).toContain("$.rules[0].event.type");

    const ok = await local(runValidate, ["--json", "--rules", RULES_DIR]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).invalid).toBe(0);
  });

  test("no policy files: an empty report, exit 1, the reason on stderr", async () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    const r = await local(runValidate, ["--json", "--rules", empty]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ valid: 0, invalid: 0, files: [] });
    expect(r.err).toBe(`vigil validate: no policy files in ${empty}\n`);
  });
});

describe("vigil test --json", () => {
  test("fixtures, failures with their message, and coverage", async () => {
    const r = await local(runTest, ["--json", "--coverage", "--rules", RULES_DIR, FIXTURE]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ failed: 0, malformed: 0, malformedFixtures: [], refusedPolicies: [] });
    expect(report.passed).toBeGreaterThan(0);
    expect(report.fixtures.every((f: { passed: boolean }) => f.passed)).toBe(true);
    // Every policy of the directory is listed; those no fixture ran at 0%.
    expect(report.coverage).toEqual([
      expect.objectContaining({ policy: "continuous-monitor", percent: 0, ran: false, belowMinimum: false }),
      expect.objectContaining({ policy: "nightly-report", percent: 0, ran: false, belowMinimum: false }),
      expect.objectContaining({ policy: "on-demand", percent: 0, ran: false, belowMinimum: false }),
      expect.objectContaining({ policy: "queue-worker", percent: 100, ran: true, belowMinimum: false }),
    ]);

    // The same fixture expecting another outcome at its first step fails, and says why.
    const fixture = JSON.parse(readFileSync(join(FIXTURE, "backlog-job-idle.json"), "utf8"));
    fixture.steps[0].expect = { outcome: "dormancy" };
    const failing = join(dir, "failing.json");
    writeFileSync(failing, JSON.stringify(fixture));
    const f = await local(runTest, ["--json", "--rules", RULES_DIR, failing]);
    expect(f.code).toBe(1);
    const failed = JSON.parse(f.out);
    expect(failed).toMatchObject({ passed: 0, failed: 1 });
    expect(failed.coverage).toBeUndefined();
    expect(failed.fixtures[0].failures[0]).toMatchObject({ step: 0, field: "outcome", expected: "dormancy" });
    expect(failed.fixtures[0].failures[0].message).toMatch(/^step 1: outcome: expected "dormancy", got "/);

    // Its first step alone passes, but leaves rules unfired: below a minimum of 100%.
    const short = join(dir, "short.json");
    writeFileSync(short, JSON.stringify({ ...fixture, steps: [{ ...fixture.steps[0], expect: {} }] }));
    const below = await local(runTest, ["--json", "--min-coverage", "100", "--rules", RULES_DIR, short]);
    expect(below.code).toBe(1);
    const partial = JSON.parse(below.out);
    expect(partial).toMatchObject({ passed: 1, failed: 0 });
    const worker = partial.coverage.find((c: { policy: string }) => c.policy === "queue-worker");
    expect(worker).toMatchObject({ ran: true, belowMinimum: true });
    expect(worker.percent).toBeGreaterThan(0);
    expect(worker.percent).toBeLessThan(100);
  });

  test("without --json too, a bad path is on stderr alone, as `vigil test: ...`", async () => {
    const path = await local(runTest, [join(dir, "nowhere")]);
    expect(path).toEqual({
      code: 2,
      out: "",
      err: `vigil test: no such fixture file or directory: ${join(dir, "nowhere")}\n`,
    });
  });

  test("a malformed fixture is exit 2 in the report; a bad option or path is exit 2 on stderr alone", async () => {
    const malformed = join(dir, "malformed.json");
    writeFileSync(malformed, JSON.stringify({ description: "no policy", steps: [] }));
    const m = await local(runTest, ["--json", "--rules", RULES_DIR, malformed]);
    expect(m.code).toBe(2);
    expect(JSON.parse(m.out).malformedFixtures[0].file).toBe(malformed);

    const option = await local(runTest, ["--json", "--min-coverage", "101", FIXTURE]);
    expect(option).toEqual({ code: 2, out: "", err: "vigil test: --min-coverage takes a percentage from 0 to 100\n" });
    const path = await local(runTest, ["--json", join(dir, "nowhere")]);
    expect(path).toEqual({
      code: 2,
      out: "",
      err: `vigil test: no such fixture file or directory: ${join(dir, "nowhere")}\n`,
    });
    const empty = await local(runTest, ["--json", "--min-coverage", "", FIXTURE]);
    expect(empty).toEqual({ code: 2, out: "", err: "vigil test: --min-coverage takes a percentage from 0 to 100\n" });
  });

  test("no fixture to run is exit 2, not a pass: an empty directory; a file named outright is read whatever its name", async () => {
    const none = mkdtempSync(join(dir, "none-"));
    expect(await local(runTest, ["--json", none])).toEqual({
      code: 2,
      out: "",
      err: `vigil test: no fixture files (*.json) in ${none}\n`,
    });
    const named = join(dir, "fixture.txt");
    writeFileSync(named, JSON.stringify({ description: "no policy", steps: [] }));
    const r = await local(runTest, ["--json", "--rules", RULES_DIR, named]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).malformedFixtures[0].file).toBe(named);
  });
});

describe("vigil schema --json", () => {
  test("prints the schema, which is JSON already", async () => {
    const r = await local(runSchema, ["--json"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(policyJsonSchemaText());
    expect(JSON.parse(r.out).$schema).toContain("json-schema.org");
  });
});

test("through the real binary: vigil validate --json parses", async () => {
  const r = await vigil(["validate", "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).invalid).toBe(0);
});
