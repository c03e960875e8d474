// Policy coverage across fixture runs: which rules never fired, and which conditions were
// never seen true or never seen false. Built from the decisions' explanations, so it counts
// exactly what json-rules-engine evaluated.

import type { PolicyDocument } from "../core/policy.ts";
import type { ConditionExplanation, Decision } from "../core/types.ts";

export interface ConditionCoverage {
  /** JSON path of the condition in the policy file, e.g. `$.rules[2].conditions.all[1]`. */
  path: string;
  seenTrue: boolean;
  seenFalse: boolean;
}

export interface PolicyCoverage {
  policy: string;
  rules: { name: string; fired: boolean }[];
  conditions: ConditionCoverage[];
  /** Covered items over all items: each rule firing, each condition true and false. */
  percent: number;
}

/** Coverage of one policy by a set of decisions taken under it. */
export function policyCoverage(doc: PolicyDocument, decisions: Decision[]): PolicyCoverage {
  const fired = new Set<string>();
  const seen = new Map<string, { t: boolean; f: boolean }>();
  const index = new Map(doc.rules.map((r, i) => [r.name, i]));
  for (const d of decisions) {
    if (d.policy.name !== doc.name) continue;
    for (const r of d.explanation.rules) {
      const i = index.get(r.rule);
      if (i === undefined) continue;
      if (r.fired) fired.add(r.rule);
      walk(r.conditions, `$.rules[${i}].conditions`, (path, result) => {
        const s = seen.get(path) ?? { t: false, f: false };
        if (result === true) s.t = true;
        if (result === false) s.f = true;
        seen.set(path, s);
      });
    }
  }
  const conditions: ConditionCoverage[] = [];
  doc.rules.forEach((r, i) =>
    leafPaths(r.conditions, `$.rules[${i}].conditions`).forEach((path) => {
      const s = seen.get(path);
      conditions.push({ path, seenTrue: s?.t ?? false, seenFalse: s?.f ?? false });
    }),
  );
  const rules = doc.rules.map((r) => ({ name: r.name, fired: fired.has(r.name) }));
  const total = rules.length + 2 * conditions.length;
  const covered =
    rules.filter((r) => r.fired).length +
    conditions.reduce((n, c) => n + (c.seenTrue ? 1 : 0) + (c.seenFalse ? 1 : 0), 0);
  return {
    policy: doc.name,
    rules,
    conditions,
    percent: total === 0 ? 100 : Math.floor((covered * 1000) / total) / 10,
  };
}

/** Visits every node: a shared-condition reference comes back expanded, and its node counts. */
function walk(
  c: ConditionExplanation,
  path: string,
  visit: (path: string, result: boolean | "not-evaluated") => void,
): void {
  visit(path, c.result);
  if (c.kind === "fact" || c.kind === "reference") return;
  if (c.kind === "not") return walk(c.conditions[0]!, `${path}.not`, visit);
  c.conditions.forEach((x, i) => walk(x, `${path}.${c.kind}[${i}]`, visit));
}

type Doc = PolicyDocument["rules"][number]["conditions"] | { fact: string };

/** Paths of the leaves of a rule's condition document (a shared-condition reference is one leaf). */
function leafPaths(c: Doc, path: string): string[] {
  if ("all" in c) return c.all.flatMap((x, i) => leafPaths(x as Doc, `${path}.all[${i}]`));
  if ("any" in c) return c.any.flatMap((x, i) => leafPaths(x as Doc, `${path}.any[${i}]`));
  if ("not" in c) return leafPaths(c.not as Doc, `${path}.not`);
  return [path];
}

/** The report `vigil test --coverage` prints. */
export function formatCoverage(c: PolicyCoverage): string {
  const lines = [`${c.policy}: ${c.percent}%`];
  for (const r of c.rules) if (!r.fired) lines.push(`  rule never fired: ${r.name}`);
  for (const x of c.conditions) {
    const never = [!x.seenTrue ? "true" : null, !x.seenFalse ? "false" : null].filter(Boolean);
    if (never.length > 0) lines.push(`  condition never ${never.join(" nor ")}: ${x.path}`);
  }
  return `${lines.join("\n")}\n`;
}
