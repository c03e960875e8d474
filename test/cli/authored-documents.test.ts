// Policy and fixture files are authored by hand: a key written twice in one object (JSON.parse
// keeps the last without a word), a number no memory can hold, and a FIFO among the fixtures
// are refused with the path at fault, by `vigil validate`, `vigil test` and the server alike.

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runTest } from "../../src/cli/test.ts";
import { runValidate } from "../../src/cli/validate.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { capture } from "./harness.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "../http/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-authored-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onDemand = readFileSync(join(RULES_DIR, "on-demand.json"), "utf8");
/** on-demand.json with a second `rules` key holding only its last rule: JSON.parse keeps that one. */
const twiceRules = () => {
  const doc = JSON.parse(onDemand) as { rules: unknown[] };
  return `${onDemand.trimEnd().slice(0, -1)}, "rules": ${JSON.stringify(doc.rules.slice(-1))}}`;
};

/** on-demand.json as compact JSON. */
const comparingWithSafe = () => JSON.stringify(JSON.parse(onDemand));

/** A rules directory holding `files`, and a fixtures directory beside it. */
function workspace(files: Record<string, string>): { rules: string; fixtures: string } {
  const root = mkdtempSync(join(dir, "ws-"));
  const rules = join(root, "rules");
  const fixtures = join(root, "fixtures");
  mkdirSync(rules);
  mkdirSync(fixtures);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(rules, name), text);
  return { rules, fixtures };
}

describe("a policy file", () => {
  test("that writes `rules` twice is refused by vigil validate at the repeated key, not loaded with half its rules", async () => {
    const { rules } = workspace({ "on-demand.json": twiceRules() });
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(code).toBe(1);
    expect(out).toContain('$.rules: the key "rules" is written more than once in this object');
  });

  /** on-demand.json with its `equal 0` compared with `number` instead (written as given). */
  const comparingWith = (number: string) => {
    const doc = JSON.parse(onDemand) as {
      rules: { conditions: { all: { operator: string; path: string; value: unknown }[] } }[];
    };
    expect(doc.rules[1]!.conditions.all[0]!.operator).toBe("equal");
    // On a path the policy's defaults leave alone: a default would make such an equality hold.
    Object.assign(doc.rules[1]!.conditions.all[0]!, { path: "$.work.id", value: "@N@" });
    return JSON.stringify(doc).replace('"@N@"', number);
  };
  const AT = "$.rules[1].conditions.all[0].value";

  test("comparing with 1e400 is refused with what is wrong with the number", async () => {
    const { rules } = workspace({ "on-demand.json": comparingWith("1e400") });
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(code).toBe(1);
    expect(out).toContain(`${AT}: the number is too large to represent`);
    expect(out).not.toContain("expected a string");
  });

  test("comparing equal with an integer past 2^53 is valid with a warning: memory never holds one", async () => {
    const { rules } = workspace({ "on-demand.json": comparingWith("12345678901234567890") });
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(code).toBe(0);
    expect(out).toContain(
      `warning ${join(rules, "on-demand.json")} ${AT}: integers beyond ±9007199254740991 may have lost digits`,
    );
  });
});

describe("a policy's numbers and depth", () => {
  test("an unsafe integer in defaults is warned about there, and an equality the default makes true is not", async () => {
    const doc = JSON.parse(comparingWithSafe()) as Record<string, unknown>;
    const text = JSON.stringify({ ...doc, defaults: { big: "@N@" } })
      .replace('"@N@"', "1152921504606846976")
      .replace(
        '"path":"$.work.pending","operator":"equal","value":0',
        '"path":"$.big","operator":"equal","value":1152921504606846976',
      );
    expect(text).toContain('"$.big","operator":"equal"');
    const { rules } = workspace({ "on-demand.json": text });
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(code).toBe(0);
    expect(out).toContain(
      "$.defaults.big: integers beyond ±9007199254740991 are not kept, for past it digits may be lost",
    );
    expect(out).not.toContain("memory never holds one");
  });

  test("keys repeated far below the nesting limit cost one short nesting error, not their paths", async () => {
    const repeated = Array.from({ length: 21 }, () => '"b": 1').join(", ");
    const deep = `${'{"a": '.repeat(100_000)}{${repeated}}${"}".repeat(100_000)}`;
    const { rules } = workspace({ "on-demand.json": `${onDemand.trimEnd().slice(0, -1)}, "x": ${deep}}` });
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(code).toBe(1);
    expect(out).toContain("nesting deeper than 64 levels");
    expect(out.length).toBeLessThan(2_000);
  });
});

describe("a fixture", () => {
  const fixture = (steps: string) => `{"policy": "on-demand", "start": "2026-03-01T12:00:00Z", "steps": ${steps}}`;
  const wrong = '[{"facts": {"work": {"pending": 2}}, "expect": {"outcome": "dormancy", "state": "failed"}}]';

  test.each([
    [
      "`steps` twice (the wrong expectations first)",
      fixture(wrong).replace(/}$/, ', "steps": [{"advance": "PT1M"}]}'),
      "$.steps",
    ],
    [
      "`expect` twice in a step (the wrong one first)",
      fixture('[{"facts": {"work": {"pending": 2}}, "expect": {"outcome": "dormancy"}, "expect": {}}]'),
      "$.steps[0].expect",
    ],
  ])("that writes %s is malformed, not a pass", async (_, text, path) => {
    const { rules, fixtures } = workspace({ "on-demand.json": onDemand });
    writeFileSync(join(fixtures, "twice.json"), text);
    const { code, out } = await capture((o) => runTest(["--rules", rules, fixtures], o, () => {}));
    expect(out).toContain("MALFORMED");
    expect(out).toContain(`${path}: the key`);
    expect(out).not.toMatch(/^pass /m);
    expect(code).toBe(2);
  });

  test("whose facts hold 1e400 is malformed with what the server would say, not `expected a string`", async () => {
    const { rules, fixtures } = workspace({ "on-demand.json": onDemand });
    writeFileSync(join(fixtures, "big.json"), fixture('[{"facts": {"work": {"pending": 1e400}}}]'));
    const { code, out } = await capture((o) => runTest(["--rules", rules, fixtures], o, () => {}));
    expect(out).toContain("$.steps[0].facts.work.pending: the number is too large");
    expect(out).not.toContain("expected a string");
    expect(code).toBe(2);
  });

  test("a FIFO found in a fixtures directory is malformed, not waited on for ever", () => {
    const { rules, fixtures } = workspace({ "on-demand.json": onDemand });
    copyFileSync(join(RULES_DIR, "..", "fixtures", "on-demand", "freeze-thaw.json"), join(fixtures, "good.json"));
    execFileSync("mkfifo", [join(fixtures, "pipe.json")]);
    // A child process with a time limit: a read that waits for a writer blocks its whole thread.
    const r = spawnSync(process.execPath, ["bin/vigil.js", "test", "--rules", rules, fixtures], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain(`${join(fixtures, "pipe.json")} $: not a regular file`);
    expect(r.stdout).toMatch(/^pass {2}.*good\.json/m);
    expect(r.status).toBe(2);
  });
  test("a dangling link among fixtures is malformed, a directory reached again through a link is passed over, and the rest run", async () => {
    const { rules, fixtures } = workspace({ "on-demand.json": onDemand });
    copyFileSync(join(RULES_DIR, "..", "fixtures", "on-demand", "freeze-thaw.json"), join(fixtures, "good.json"));
    symlinkSync(join(fixtures, "nowhere"), join(fixtures, "gone.json"));
    symlinkSync(".", join(fixtures, "loop"));
    const { code, out } = await capture((o) => runTest(["--rules", rules, fixtures], o, () => {}));
    expect(out).toContain(
      `${join(fixtures, "gone.json")} $: a symbolic link to nothing (to ${JSON.stringify(join(fixtures, "nowhere"))}, which does not exist)`,
    );
    expect(out).toMatch(/^pass {2}.*good\.json/m);
    expect(out).toContain("1 passed, 0 failed, 1 malformed");
    expect(code).toBe(2);
  });
});

describe("POST /v1/policies/validate", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup({ tokens: TOKEN_CONFIG });
  });
  afterAll(() => h.close());

  test("refuses a document that writes a key twice, at its path, as vigil validate refuses its file", async () => {
    const r = await h.call("POST", "/v1/policies/validate", {
      raw: twiceRules(),
      headers: { "content-type": "application/json" },
      token: TOKENS.read,
    });
    expect(r.status).toBe(422);
    expect((JSON.parse(r.text) as { errors: { path: string }[] }).errors).toEqual([
      { path: "$.rules", message: expect.stringContaining("written more than once") },
    ]);
  });

  test("a dry run refuses a key written twice in its candidate policy, and reads its facts as POST /facts does", async () => {
    await h.call("PUT", "/v1/objects/w1", { json: { policy: "queue-worker" }, token: TOKENS.admin });
    const headers = { "content-type": "application/json" };
    const facts = '{"queue": {"depth": 3, "depth": 0}}';
    const real = await h.call("POST", "/v1/objects/w1/facts", {
      raw: `{"facts": ${facts}}`,
      headers,
      token: TOKENS.facts,
    });
    expect(real.status).toBe(200);
    const dry = await h.call("POST", "/v1/objects/w1/evaluate", {
      raw: `{"facts": ${facts}}`,
      headers,
      token: TOKENS.read,
    });
    expect(dry.status, dry.text).toBe(200);
    const candidate = await h.call("POST", "/v1/objects/w1/evaluate", {
      raw: `{"facts": ${facts}, "policy": ${twiceRules().replace('"name": "on-demand"', '"name": "candidate"')}}`,
      headers,
      token: TOKENS.read,
    });
    expect(candidate.status, candidate.text).toBe(422);
    expect((JSON.parse(candidate.text) as { errors: { path: string }[] }).errors).toEqual([
      { path: "$.policy.rules", message: expect.stringContaining("written more than once") },
    ]);
  });
});
