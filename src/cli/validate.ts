// `vigil validate [--rules DIR] [FILE...]`: every error names the file and the JSON path.
// Exit 0 when every policy is valid, 1 otherwise.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PolicyRegistry } from "../governor/policy-registry.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";

export async function runValidate(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...HELP_OPTION, rules: { type: "string", default: process.env.VIGIL_RULES_DIR ?? "rules" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return printUsage("validate", out);
  const files =
    positionals.length > 0
      ? positionals
      : readdirSync(values.rules)
          .filter((f) => f.endsWith(".json"))
          .sort()
          .map((f) => join(values.rules, f));
  if (files.length === 0) {
    out(`no policy files in ${values.rules}\n`);
    return 1;
  }
  const registry = new PolicyRegistry();
  let failed = 0;
  for (const file of files) {
    const r = registry.loadFile(file);
    if (r.ok) {
      out(`ok    ${file}  ${r.policy.info.name}@${r.policy.info.version} (${r.policy.info.rules.length} rules)\n`);
      for (const w of r.warnings) out(`  warning ${file} ${w.path}: ${w.message}\n`);
    } else {
      failed++;
      out(`FAIL  ${file}\n`);
      for (const e of r.error.errors) out(`  ${file} ${e.path}: ${e.message}\n`);
    }
  }
  out(`${files.length - failed} valid, ${failed} invalid\n`);
  return failed === 0 ? 0 : 1;
}
