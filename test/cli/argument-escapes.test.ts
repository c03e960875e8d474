// What a command says on stderr quotes what it was given: a directory, a file's name, a policy's
// name, a database URL. An ESC in one (a name pasted from elsewhere, or made to) reached the
// terminal, which takes it for the start of a sequence (clear the screen, set the window's
// title). Through the real binary: each message shows it as an escape, as docs/cli.md says the
// commands show what they quote. No server is needed: each fails before it would send anything.

import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";

const ESC = "\u001b]0;owned\u0007\u001b[2J";
const SHOWN = "\\u001b]0;owned\\u0007\\u001b[2J";
/** What a terminal acts on: C0 controls but the line ends the command prints itself, DEL, C1. */
// oxlint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const vigil = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/vigil.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });

test.each([
  [["validate", "--rules", `/nonexistent-${ESC}`], `vigil validate: /nonexistent-${SHOWN}: no such file`],
  [["test", `/nonexistent-${ESC}`], `vigil test: no such fixture file or directory: /nonexistent-${SHOWN}`],
  [
    ["simulate", "--policy", `q${ESC}`, "--traffic", "fixtures/traffic/queue-burst.jsonl"],
    `vigil simulate: no policy "q${SHOWN}"`,
  ],
  [["replay", "--object", "w", "--db", `file:/nonexistent/${ESC}`, "rules/on-demand.json"], `/nonexistent/${SHOWN}`],
  [
    ["facts", "post", "w", `@/nonexistent/${ESC}`, "--url", "http://127.0.0.1:9"],
    `vigil facts: the facts argument: cannot read /nonexistent/${SHOWN}`,
  ],
])("vigil %j says what it was given with its control characters as escapes", async (args, said) => {
  const r = await vigil(args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toMatch(CONTROL);
  expect(r.stderr).toContain(said);
});

// Its report on stdout too: a policy file whose name has an ESC in it (which the file's own
// problem quotes as well), printed as `vigil test` prints what it read of files.
test("vigil validate prints a file's name with its control characters as escapes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-escapes-"));
  try {
    copyFileSync("rules/on-demand.json", join(dir, `a${ESC}.json`));
    const r = await vigil(["validate", "--rules", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stdout).toContain(`FAIL  ${dir}/a${SHOWN}.json\n`);
    expect(r.stdout).toContain(`the file name "a${SHOWN}" is not a policy name`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
