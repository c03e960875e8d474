// `vigil test [--rules DIR] [--coverage] [--json] [PATH...]`: runs fixture files against the
// policies in DIR. Exit 0 when all pass, 1 when any fails, 2 when a fixture itself is malformed.
// With --json the same report is one JSON document on stdout, and what is not part of it
// (a bad option, a missing path) goes to stderr.

import { basename } from "node:path";
import { parseCommandLine } from "./parse-args.ts";
import type { PolicyDocument } from "../core/policy.ts";
import { isMissing, linkToNothing, missingWords } from "../dirs.ts";
import type { Decision } from "../core/types.ts";
import { PolicyRegistry } from "../governor/policy-registry.ts";
import type { Problem } from "../core/errors.ts";
import { formatCoverage, policyCoverage, type PolicyCoverage } from "../what-if/coverage.ts";
import {
  FixtureError,
  findFixtureFiles,
  formatFailure,
  loadFixture,
  runFixture,
  type LoadedFixture,
  type StepFailure,
} from "../what-if/fixtures.ts";
import { decimalNumber } from "./values.ts";
import { rulesDirectory, rulesDirectoryProblem, rulesSource } from "./flag-config.ts";
import { EMPTY_RULES, HELP_OPTION, printUsage } from "./usage.ts";
import { printable, writeStderr } from "./printable.ts";

export async function runTest(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = writeStderr,
): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    options: {
      ...HELP_OPTION,
      rules: { type: "string" },
      coverage: { type: "boolean", default: false },
      "min-coverage": { type: "string" },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return printUsage("test", out);
  const json = values.json;
  // The text report; nothing with --json, which prints the same as one document at the end. What
  // it prints of files (their names, a fixture's description, a problem's words) is printable:
  // a control character in them is an escape, one line a line, as the client commands print.
  const say = json ? () => {} : out;

  // What is not part of the report: on stderr, as `vigil test: ...` (stdout stays the report).
  const complain = (message: string) => {
    err(`vigil test: ${message}\n`);
    return 2;
  };
  const report: TestReport = {
    passed: 0,
    failed: 0,
    malformed: 0,
    fixtures: [],
    malformedFixtures: [],
    refusedPolicies: [],
  };
  if (values.rules === "") return complain(EMPTY_RULES);
  const rawCoverage = values["min-coverage"];
  const minCoverage = rawCoverage === undefined ? null : decimalNumber(rawCoverage);
  if (minCoverage !== null && !(minCoverage >= 0 && minCoverage <= 100)) {
    return complain("--min-coverage takes a percentage from 0 to 100");
  }
  const paths = positionals.length > 0 ? positionals : ["fixtures"];
  // The default, `fixtures`, is read from the working directory: run elsewhere than the
  // repository's root, `vigil test` said only `no such fixture file or directory: fixtures`.
  const byDefault = positionals.length === 0 ? ` (the default PATH, in the working directory ${process.cwd()})` : "";
  for (const p of paths) {
    if (isMissing(p)) {
      return complain(
        linkToNothing(p) === null ? `no such fixture file or directory: ${p}${byDefault}` : `${p}: ${missingWords(p)}`,
      );
    }
  }
  const rules = rulesDirectory(values.rules);
  const registry = new PolicyRegistry();
  let refusals;
  try {
    refusals = registry.loadDirectory(rules.dir);
  } catch (e) {
    const problem = rulesDirectoryProblem(e, rules);
    if (problem === null) throw e;
    return complain(problem);
  }
  for (const e of refusals) {
    report.refusedPolicies.push({ file: e.file, errors: e.errors });
    for (const p of e.errors)
      say(`policy refused: ${printable(e.file)} ${printable(p.path)}: ${printable(p.message)}\n`);
  }
  const files = findFixtureFiles(paths);
  // A run of no fixture proves nothing: a CI job pointed at the wrong directory must not pass.
  if (files.length === 0) return complain(`no fixture files (*.json) in ${paths.join(", ")}`);
  const loaded: LoadedFixture[] = [];
  let malformed = 0;
  for (const file of files) {
    try {
      const fixture = loadFixture(file, !paths.includes(file));
      const name = fixture.fixture.policy;
      if (!registry.compiled(name)) {
        const refused = report.refusedPolicies.find((r) => basename(r.file) === `${name}.json`);
        throw new FixtureError(file, [
          {
            path: "$.policy",
            message: refused
              ? `policy "${name}" was refused (${refused.file}, above)`
              : `no policy "${name}" in ${rules.dir} (${rulesSource(rules)})`,
          },
        ]);
      }
      loaded.push(fixture);
    } catch (e) {
      if (!(e instanceof FixtureError)) throw e;
      malformed++;
      report.malformedFixtures.push({ file, problems: e.problems });
      say(`MALFORMED ${printable(file)}\n`);
      for (const p of e.problems) say(`  ${printable(file)} ${printable(p.path)}: ${printable(p.message)}\n`);
    }
  }
  let failed = 0;
  const decisions = new Map<string, Decision[]>();
  for (const l of loaded) {
    const r = await runFixture(l, registry);
    report.fixtures.push({
      file: r.file,
      description: r.description,
      passed: r.passed,
      failures: r.failures.map((f) => ({ ...f, message: formatFailure(f) })),
    });
    say(`${r.passed ? "pass" : "FAIL"}  ${printable(r.file)}  ${printable(r.description)}\n`);
    for (const f of r.failures) say(`  ${printable(formatFailure(f))}\n`);
    if (!r.passed) failed++;
    decisions.set(l.fixture.policy, [...(decisions.get(l.fixture.policy) ?? []), ...r.decisions]);
  }
  const refused = report.refusedPolicies.length;
  say(
    `${loaded.length - failed} passed, ${failed} failed${malformed ? `, ${malformed} malformed` : ""}` +
      `${refused ? `; ${refused} ${refused === 1 ? "policy" : "policies"} refused` : ""}\n`,
  );
  Object.assign(report, { passed: loaded.length - failed, failed, malformed });
  if (malformed > 0) return finish(2);
  let belowMinimum = false;
  if (values.coverage || minCoverage !== null) {
    say("\ncoverage (rules fired, conditions seen true and false):\n");
    report.coverage = [];
    // Every policy in the directory counts, a policy no fixture ran too (at 0%): a CI job that
    // asks for a minimum must not let a policy without fixtures through.
    for (const info of registry.list().items) {
      const ds = decisions.get(info.name);
      const c = policyCoverage(info.document as PolicyDocument, ds ?? []);
      say(ds === undefined ? `${info.name}: 0% (no fixture ran it)\n` : formatCoverage(c));
      const below = minCoverage !== null && c.percent < minCoverage;
      report.coverage.push({ ...c, ran: ds !== undefined, belowMinimum: below });
      if (below) {
        belowMinimum = true;
        say(`  below the minimum of ${minCoverage}%\n`);
      }
    }
  }
  // A refused policy is a failed check even when no fixture uses it: a CI job that runs only
  // `vigil test` must not let it through.
  return finish(failed > 0 || belowMinimum || refused > 0 ? 1 : 0);

  function finish(code: number): number {
    if (json) out(`${JSON.stringify(report, null, 2)}\n`);
    return code;
  }
}

/** What `vigil test --json` prints. */
interface TestReport {
  passed: number;
  failed: number;
  malformed: number;
  fixtures: { file: string; description: string; passed: boolean; failures: (StepFailure & { message: string })[] }[];
  malformedFixtures: { file: string; problems: Problem[] }[];
  refusedPolicies: { file: string; errors: Problem[] }[];
  /** With --coverage or --min-coverage: each policy's coverage; `ran` is false for one no fixture ran. */
  coverage?: (PolicyCoverage & { ran: boolean; belowMinimum: boolean })[];
}
