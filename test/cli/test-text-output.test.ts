// `vigil test`'s text report, through the real binary: what it prints of the files it read (their
// names, a fixture's description, a problem's words) reaches a terminal as the client commands'
// output does, a control character as a `\uXXXX` escape, one line a line (docs/cli.md, "Output").

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules", import.meta.url));
const PASSING = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../fixtures/on-demand/freeze-thaw.json", import.meta.url)), "utf8"),
) as { description: string; steps: { expect: Record<string, unknown> }[] };
/** What a terminal acts on: C0 controls but the line ends the command prints itself, DEL, C1. */
// oxlint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const SEQUENCES = "\u001b]0;owned\u0007\u001b[2J";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-test-text-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const vigilTest = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, "test", "--rules", RULES, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test("a description, a found file's name and a problem's words with an ESC or a line break print as escapes", () => {
  writeFileSync(join(dir, "a.json"), JSON.stringify({ ...PASSING, description: `${SEQUENCES} passes` }));
  const failing = structuredClone(PASSING);
  failing.description = "fails\nFAIL  forged.json";
  failing.steps[0]!.expect.state = "dormant";
  writeFileSync(join(dir, `b${SEQUENCES}\nc.json`), JSON.stringify(failing));
  writeFileSync(join(dir, `d\u001b[31m.json`), "{");
  const r = vigilTest(dir);
  expect(r.code).toBe(2);
  expect(r.out).not.toMatch(CONTROL);
  const lines = r.out.trimEnd().split("\n");
  expect(lines).toContain(`pass  ${dir}/a.json  \\u001b]0;owned\\u0007\\u001b[2J passes`);
  expect(lines).toContain(`FAIL  ${dir}/b\\u001b]0;owned\\u0007\\u001b[2J\\u000ac.json  fails\\u000aFAIL  forged.json`);
  expect(lines).toContain(`MALFORMED ${dir}/d\\u001b[31m.json`);
  expect(lines.filter((l) => l.startsWith(`  ${dir}/d\\u001b[31m.json $: not valid JSON`))).toHaveLength(1);
  expect(lines.at(-1)).toBe("1 passed, 1 failed, 1 malformed");
  // The JSON report keeps the words as they are: JSON escapes them itself.
  const json = JSON.parse(vigilTest("--json", dir).out) as { fixtures: { description: string }[] };
  expect(json.fixtures.map((f) => f.description)).toEqual([`${SEQUENCES} passes`, "fails\nFAIL  forged.json"]);
});

// docs/cli.md, "vigil test": a link to nothing is said to be one, with where it points, not as
// `$: no such file or directory`, which sends the reader to look for a file that is plainly there.
test("a fixture that is a symbolic link to nothing is said to be one, found in a directory or named", () => {
  const target = join(dir, "gone", "loop.json");
  symlinkSync(target, join(dir, "loop.json"));
  const found = vigilTest(dir);
  expect(found.code).toBe(2);
  expect(found.out.split("\n")).toContain(
    `  ${dir}/loop.json $: a symbolic link to nothing (to ${JSON.stringify(target)}, which does not exist)`,
  );
  const named = vigilTest(join(dir, "loop.json"));
  expect({ code: named.code, out: named.out }).toEqual({ code: 2, out: "" });
  expect(named.err).toBe(
    `vigil test: ${dir}/loop.json: a symbolic link to nothing (to ${JSON.stringify(target)}, which does not exist)\n`,
  );
  // A path with nothing at it is still said as before.
  expect(vigilTest(join(dir, "nope.json")).err).toBe(
    `vigil test: no such fixture file or directory: ${dir}/nope.json\n`,
  );
});

test("run where there is no fixtures/, without a PATH, it says the default was read from the working directory", () => {
  // It said `no such fixture file or directory: fixtures`, a PATH the user had not given.
  const r = spawnSync(process.execPath, [BIN, "test", "--rules", RULES], { cwd: dir, encoding: "utf8" });
  expect({ code: r.status, out: r.stdout }).toEqual({ code: 2, out: "" });
  expect(r.stderr).toBe(
    `vigil test: no such fixture file or directory: fixtures (the default PATH, in the working directory ${realpathSync(dir)})\n`,
  );
});
