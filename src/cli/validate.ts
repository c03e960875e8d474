// `vigil validate [--rules DIR] [--json] [FILE...]`: every error names the file and the JSON path.
// Exit 0 when every policy is valid, 1 otherwise.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseCommandLine } from "./parse-args.ts";
import type { Problem } from "../core/errors.ts";
import { isMissing } from "../dirs.ts";
import { isPolicyFileName, PolicyRegistry, type LoadResult } from "../governor/policy-registry.ts";
import { rulesDirectory, rulesDirectoryProblem } from "./flag-config.ts";
import { EMPTY_RULES, HELP_OPTION, printUsage } from "./usage.ts";
import { printable, writeStderr } from "./printable.ts";

export async function runValidate(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = writeStderr,
): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    options: {
      ...HELP_OPTION,
      rules: { type: "string" },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return printUsage("validate", out);
  if (values.rules === "") {
    err(`vigil validate: ${EMPTY_RULES}\n`);
    return 2;
  }
  // A FILE that is not there is an input that cannot be used (exit 2), as a missing --rules is.
  const missing = positionals.find(isMissing);
  if (missing !== undefined) {
    err(`vigil validate: ${missing}: no such file or directory\n`);
    return 2;
  }
  // One that cannot even be looked at (in a directory this user may not search) is no directory
  // known: it is read, and its loading says why it cannot be (an invalid file, exit 1).
  const directory = positionals.find(isDirectory);
  if (directory !== undefined) {
    err(`vigil validate: ${directory}: a directory, not a policy file (--rules ${directory} checks its files)\n`);
    return 2;
  }
  const rules = rulesDirectory(values.rules);
  let files = positionals;
  if (positionals.length === 0) {
    try {
      files = readdirSync(rules.dir)
        .filter(isPolicyFileName)
        .sort()
        .map((f) => join(rules.dir, f));
    } catch (e) {
      const problem = rulesDirectoryProblem(e, rules);
      if (problem === null) throw e;
      err(`vigil validate: ${problem}\n`);
      return 2;
    }
  }
  const registry = new PolicyRegistry();
  const results = files.map((file) => resultOf(file, registry.loadFile(file)));
  const invalid = results.filter((r) => !r.valid).length;
  if (values.json) {
    out(`${JSON.stringify({ valid: results.length - invalid, invalid, files: results }, null, 2)}\n`);
    if (files.length === 0) err(`vigil validate: no policy files in ${rules.dir}\n`);
  } else if (files.length === 0) out(`no policy files in ${rules.dir}\n`);
  else out(report(results));
  return files.length > 0 && invalid === 0 ? 0 : 1;
}

/** Whether `path` is known to be a directory (one that cannot be looked at is not known to be). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One file's result, as --json prints it. */
interface FileResult {
  file: string;
  valid: boolean;
  policy?: { name: string; version: string; rules: number };
  warnings: Problem[];
  errors: Problem[];
}

function resultOf(file: string, r: LoadResult): FileResult {
  if (!r.ok) return { file, valid: false, warnings: [], errors: r.error.errors };
  const { name, version, rules } = r.policy.info;
  return { file, valid: true, policy: { name, version, rules: rules.length }, warnings: r.warnings, errors: [] };
}

/**
 * The text report. What it quotes of the files (a name, a version, a problem's words, which may
 * quote a file's name) is printed with its control characters as escapes, as `vigil test` prints
 * it: an ESC in a file's name reached the terminal.
 */
function report(results: FileResult[]): string {
  let text = "";
  const line = (s: string) => (text += `${printable(s)}\n`);
  for (const r of results) {
    if (r.policy) line(`ok    ${r.file}  ${r.policy.name}@${r.policy.version} (${r.policy.rules} rules)`);
    else line(`FAIL  ${r.file}`);
    for (const w of r.warnings) line(`  warning ${r.file} ${w.path}: ${w.message}`);
    for (const e of r.errors) line(`  ${r.file} ${e.path}: ${e.message}`);
  }
  const invalid = results.filter((r) => !r.valid).length;
  return `${text}${results.length - invalid} valid, ${invalid} invalid\n`;
}
