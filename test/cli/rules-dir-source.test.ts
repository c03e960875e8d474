// A directory of policy files that cannot be read names where it came from: `vigil validate`,
// `vigil test` and `vigil simulate` said `rulez: no such file or directory`, which named neither
// --rules nor VIGIL_RULES_DIR, so a stale variable (or the default `rules`, run from another
// directory) left the reader looking for an argument no one had given.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-rules-source-"));
const file = join(dir, "a-file");
writeFileSync(file, "");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vigil = (args: string[], env: Record<string, string | undefined>, cwd = ROOT) =>
  spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, VIGIL_RULES_DIR: undefined, ...env },
  });

const FIXTURES = join(ROOT, "fixtures");
const TRAFFIC = join(ROOT, "fixtures/traffic/queue-burst.jsonl");
const COMMANDS: [string, string[], string][] = [
  ["validate", ["validate"], "vigil validate: "],
  ["test", ["test", FIXTURES], "vigil test: "],
  [
    "simulate",
    ["simulate", "--policy", "on-demand", "--traffic", TRAFFIC],
    "vigil simulate: cannot read the policies in ",
  ],
];

describe.each(COMMANDS)("vigil %s", (_, args, prefix) => {
  test("a VIGIL_RULES_DIR that is not there is named as the variable's", () => {
    const missing = join(dir, "rulez");
    const r = vigil(args, { VIGIL_RULES_DIR: missing });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `${prefix}${missing}: no such file or directory (the policy directory, from VIGIL_RULES_DIR)\n`,
    );
  });

  test("a --rules that is a file is named as the flag's, over the variable", () => {
    const r = vigil([...args, "--rules", file], { VIGIL_RULES_DIR: join(dir, "rulez") });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${prefix}${file}: not a directory (the policy directory, from --rules)\n`);
  });

  test("the default, run where there is no rules/, says how to name one", () => {
    const r = vigil(args, {}, dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `${prefix}rules: no such file or directory (the policy directory, from the default; give --rules DIR or set VIGIL_RULES_DIR)\n`,
    );
  });
});

// A directory that reads but lacks the policy asked for: `vigil test` said `no policy "X" in
// rules` and `vigil simulate` added only the policies there, naming neither where `rules` came
// from nor --rules.
describe("a policy the directory does not hold", () => {
  const cwd = join(dir, "elsewhere");
  mkdirSync(join(cwd, "rules"), { recursive: true });
  copyFileSync(join(ROOT, "rules/on-demand.json"), join(cwd, "rules/on-demand.json"));
  const fixture = join(ROOT, "fixtures/queue-worker/backlog-job-idle.json");
  const said = (r: ReturnType<typeof vigil>) => r.stdout.split("\n")[1];

  test.each([
    ["the default", [], {}, "rules", "the default; give --rules DIR or set VIGIL_RULES_DIR"],
    ["VIGIL_RULES_DIR", [], { VIGIL_RULES_DIR: "rules" }, "rules", "VIGIL_RULES_DIR; give --rules DIR for another"],
    ["--rules", ["--rules", "rules"], {}, "rules", "--rules"],
  ])("from %s, it names the directory's source", (_, flags, env, shown, source) => {
    const r = vigil(["test", ...flags, fixture], env, cwd);
    expect(r.status).toBe(2);
    expect(said(r)).toBe(
      `  ${fixture} $.policy: no policy "queue-worker" in ${shown} (the policy directory, from ${source})`,
    );
  });

  test.each([
    ["the default", [], {}, "the default; give --rules DIR or set VIGIL_RULES_DIR"],
    ["VIGIL_RULES_DIR", [], { VIGIL_RULES_DIR: "rules" }, "VIGIL_RULES_DIR; give --rules DIR for another"],
    ["--rules", ["--rules", "rules"], {}, "--rules"],
  ])("vigil simulate from %s names it too", (_, flags, env, source) => {
    const r = vigil(["simulate", ...flags, "--policy", "queue-worker", "--traffic", TRAFFIC], env, cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `vigil simulate: no policy "queue-worker" in rules (there: on-demand; the policy directory, from ${source})\n`,
    );
  });
});
