// Policy coverage across fixture runs: which rules never fired, and which conditions were
// never seen true or never seen false. Built from the decisions' explanations, so it counts
// exactly what json-rules-engine evaluated. A shared condition is looked inside: its own
// conditions are items, wherever it is used.

import { formatPath } from "../core/paths.ts";
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
  const shared = doc.conditions ?? {};
  const visit = (path: string, result: boolean | "not-evaluated") => {
    const s = seen.get(path) ?? { t: false, f: false };
    if (result === true) s.t = true;
    if (result === false) s.f = true;
    seen.set(path, s);
  };
  for (const d of decisions) {
    if (d.policy.name !== doc.name) continue;
    for (const r of d.explanation.rules) {
      const i = index.get(r.rule);
      if (i === undefined) continue;
      if (r.fired) fired.add(r.rule);
      walk(doc.rules[i]!.conditions as Doc, r.conditions, `$.rules[${i}].conditions`, shared, visit);
    }
  }
  const conditions: ConditionCoverage[] = [];
  const leaves = (c: Doc, path: string, inside: Set<string>) => {
    for (const leaf of leafPaths(c, path, shared, inside)) {
      const s = seen.get(leaf);
      conditions.push({ path: leaf, seenTrue: s?.t ?? false, seenFalse: s?.f ?? false });
    }
  };
  const counted = new Set<string>();
  doc.rules.forEach((r, i) => leaves(r.conditions as Doc, `$.rules[${i}].conditions`, counted));
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

type Doc = { all?: Doc[]; any?: Doc[]; not?: Doc; condition?: string; fact?: string };
type Shared = Record<string, unknown>;

const sharedPath = (name: string) => formatPath(["conditions", name]);

/**
 * Visits every node of an explanation beside the condition document it came from. An evaluated
 * reference comes back as the shared condition expanded in its place, so its nodes are counted
 * at the shared condition's own paths (`$.conditions.busy.all[0]`), across every rule using it;
 * one never reached stays a reference and counts at the reference.
 */
function walk(
  doc: Doc,
  c: ConditionExplanation,
  path: string,
  shared: Shared,
  visit: (path: string, result: boolean | "not-evaluated") => void,
): void {
  if (doc.condition !== undefined && c.kind !== "reference" && shared[doc.condition] !== undefined)
    return walk(shared[doc.condition] as Doc, c, sharedPath(doc.condition), shared, visit);
  visit(path, c.result);
  if (c.kind === "fact" || c.kind === "reference") return;
  if (c.kind === "not") return doc.not ? walk(doc.not, c.conditions[0]!, `${path}.not`, shared, visit) : undefined;
  const children = c.kind === "all" ? doc.all : doc.any;
  c.conditions.forEach((x, i) => {
    const child = children?.[i];
    if (child) walk(child, x, `${path}.${c.kind}[${i}]`, shared, visit);
  });
}

/**
 * Paths of the leaves of a condition document. A reference contributes the leaves of its shared
 * condition, once per policy (`inside` holds the shared conditions already counted).
 */
function leafPaths(c: Doc, path: string, shared: Shared, inside: Set<string>): string[] {
  if (c.all) return c.all.flatMap((x, i) => leafPaths(x, `${path}.all[${i}]`, shared, inside));
  if (c.any) return c.any.flatMap((x, i) => leafPaths(x, `${path}.any[${i}]`, shared, inside));
  if (c.not) return leafPaths(c.not, `${path}.not`, shared, inside);
  if (c.condition !== undefined && shared[c.condition] !== undefined) {
    if (inside.has(c.condition)) return [];
    inside.add(c.condition);
    return leafPaths(shared[c.condition] as Doc, sharedPath(c.condition), shared, inside);
  }
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
