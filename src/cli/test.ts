// `vigil test [--rules DIR] [PATH...]`: runs fixture files against the policies in DIR.
// Exit 0 when all pass, 1 when any fails, 2 when a fixture itself is malformed.

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { PolicyDocument } from "../core/policy.ts";
import type { Decision } from "../core/types.ts";
import { PolicyRegistry } from "../governor/policy-registry.ts";
import { formatCoverage, policyCoverage } from "../what-if/coverage.ts";
import {
  FixtureError,
  findFixtureFiles,
  formatFailure,
  loadFixture,
  runFixture,
  type LoadedFixture,
} from "../what-if/fixtures.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";

export async function runTest(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...HELP_OPTION,
      rules: { type: "string", default: process.env.VIGIL_RULES_DIR ?? "rules" },
      coverage: { type: "boolean", default: false },
      "min-coverage": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return printUsage("test", out);
  const minCoverage = values["min-coverage"] === undefined ? null : Number(values["min-coverage"]);
  if (minCoverage !== null && !(minCoverage >= 0 && minCoverage <= 100)) {
    out(`--min-coverage takes a percentage from 0 to 100\n`);
    return 2;
  }
  const paths = positionals.length > 0 ? positionals : ["fixtures"];
  for (const p of paths) {
    if (!existsSync(p)) {
      out(`no such fixture file or directory: ${p}\n`);
      return 2;
    }
  }
  const registry = new PolicyRegistry();
  for (const e of registry.loadDirectory(values.rules)) {
    for (const p of e.errors) out(`policy refused: ${e.file} ${p.path}: ${p.message}\n`);
  }
  const files = findFixtureFiles(paths);
  const loaded: LoadedFixture[] = [];
  let malformed = 0;
  for (const file of files) {
    try {
      const fixture = loadFixture(file);
      if (!registry.compiled(fixture.fixture.policy))
        throw new FixtureError(file, [
          { path: "$.policy", message: `no policy "${fixture.fixture.policy}" in ${values.rules}` },
        ]);
      loaded.push(fixture);
    } catch (e) {
      if (!(e instanceof FixtureError)) throw e;
      malformed++;
      out(`MALFORMED ${file}\n`);
      for (const p of e.problems) out(`  ${file} ${p.path}: ${p.message}\n`);
    }
  }
  let failed = 0;
  const decisions = new Map<string, Decision[]>();
  for (const l of loaded) {
    const r = await runFixture(l, registry);
    out(`${r.passed ? "pass" : "FAIL"}  ${r.file}  ${r.description}\n`);
    for (const f of r.failures) out(`  ${formatFailure(f)}\n`);
    if (!r.passed) failed++;
    decisions.set(l.fixture.policy, [...(decisions.get(l.fixture.policy) ?? []), ...r.decisions]);
  }
  out(`${loaded.length - failed} passed, ${failed} failed${malformed ? `, ${malformed} malformed` : ""}\n`);
  if (malformed > 0) return 2;
  let belowMinimum = false;
  if (values.coverage || minCoverage !== null) {
    out("\ncoverage (rules fired, conditions seen true and false):\n");
    for (const [name, ds] of [...decisions].sort(([a], [b]) => a.localeCompare(b))) {
      const info = registry.get(name);
      if (!info) continue;
      const c = policyCoverage(info.document as PolicyDocument, ds);
      out(formatCoverage(c));
      if (minCoverage !== null && c.percent < minCoverage) {
        belowMinimum = true;
        out(`  below the minimum of ${minCoverage}%\n`);
      }
    }
  }
  return failed > 0 || belowMinimum ? 1 : 0;
}
