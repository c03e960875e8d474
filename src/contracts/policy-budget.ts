// The budget every policy is checked against before it runs (files, hot reload and candidates
// alike: they share validation). A policy is untrusted text, and a small one can describe a
// huge amount of work: thirty shared conditions that each use the one before twice expand to
// billions of nodes when json-rules-engine evaluates them. Each limit refused is an ordinary
// `{path, message}` problem that names the limit and the value found.

import { FORBIDDEN_KEYS, numberProblem } from "../core/memory-limits.ts";
import type { PathSegment } from "../core/paths.ts";
import { SharedConditions, treeShape } from "./condition-graph.ts";

/** The most characters of JSON a policy may take (its file, or a candidate serialized). */
export const MAX_POLICY_CHARS = 256 * 1024;
/** The deepest nesting of objects and arrays in a policy document (the document is depth 1). */
export const MAX_POLICY_DEPTH = 64;
/** The most condition nodes the rules may have, each shared-condition reference expanded. */
export const MAX_CONDITION_NODES = 10_000;
/** The deepest nesting of conditions, each shared-condition reference expanded. */
export const MAX_CONDITION_DEPTH = 32;
/** The most decorators one operator may carry (`not:someFact:equal` has two). */
export const MAX_OPERATOR_DECORATORS = 4;
/** The longest operator string. */
export const MAX_OPERATOR_LENGTH = 100;

export interface BudgetIssue {
  path: PathSegment[];
  message: string;
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | null;
  key: PathSegment;
}

/**
 * The size and nesting of the document as a whole, checked first and without recursion:
 * everything after it (zod, the compilers, json-rules-engine, JSON.stringify) recurses through
 * the document. The size is the length of the document's JSON text, counted as the walk goes,
 * which stops at the first limit passed; so does a forbidden key (`__proto__`, `constructor`,
 * `prototype`) and a number past the double range (`1e400`, which JSON.parse reads as
 * Infinity and JSON.stringify writes as null). Returns at most one issue.
 */
export function documentBudgetIssues(doc: unknown): BudgetIssue[] {
  return budgetWalk(doc, false);
}

/**
 * The size of the document alone (documentBudgetIssues's first limit, the one a large document
 * is refused by whatever else it holds), for a request to check before walking a body it carries
 * whole (validation.ts): at most one issue.
 */
export function documentSizeIssues(doc: unknown): BudgetIssue[] {
  return budgetWalk(doc, true);
}

function budgetWalk(doc: unknown, sizeOnly: boolean): BudgetIssue[] {
  let chars = 0;
  const stack: Visit[] = [{ value: doc, depth: 1, parent: null, key: "" }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const v = visit.value;
    if (!sizeOnly && typeof v === "number" && !Number.isFinite(v))
      return [
        {
          path: pathOf(visit),
          message: numberProblem(v, "write")!,
        },
      ];
    if (v === null || typeof v !== "object") chars += scalarChars(v);
    else if (!sizeOnly && visit.depth > MAX_POLICY_DEPTH)
      return [
        {
          path: pathOf(visit),
          message: `nesting deeper than ${MAX_POLICY_DEPTH} levels: at most ${MAX_POLICY_DEPTH} are allowed`,
        },
      ];
    else {
      // Children go on the stack last first, so that the walk meets them in document order.
      const entries: [PathSegment, unknown][] = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : Object.entries(v as Raw).map(([k, x]) => {
            chars += JSON.stringify(k).length + 1;
            return [k, x];
          });
      // Keys that name an object's prototype machinery: whatever looks a name up in an object
      // (a shared condition, a default) would find something else. Refused in every policy, as
      // in memory and facts.
      const forbidden = Array.isArray(v) ? undefined : entries.find(([k]) => FORBIDDEN_KEYS.has(String(k)));
      if (forbidden && !sizeOnly)
        return [
          { path: [...pathOf(visit), forbidden[0]], message: `the key "${String(forbidden[0])}" is not allowed` },
        ];
      chars += 2 + Math.max(0, entries.length - 1);
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push({ value: entries[i]![1], depth: visit.depth + 1, parent: visit, key: entries[i]![0] });
    }
    if (chars > MAX_POLICY_CHARS)
      return [
        {
          path: [],
          message: `the policy is at least ${chars} characters of JSON: at most ${MAX_POLICY_CHARS} are allowed`,
        },
      ];
  }
  return [];
}

function scalarChars(v: unknown): number {
  if (typeof v === "string") return JSON.stringify(v).length;
  if (typeof v === "number" || typeof v === "boolean") return String(v).length;
  return v === null ? 4 : 0;
}

function pathOf(visit: Visit): PathSegment[] {
  const path: PathSegment[] = [];
  for (let v: Visit | null = visit; v?.parent; v = v.parent) path.push(v.key);
  return path.reverse();
}

const EXPANDED = "shared conditions counted at every reference";

/**
 * How far the conditions expand, shared-condition references replaced by what they name:
 * the nodes of all the rules together, and the nesting of each rule and shared condition.
 * Of the shared conditions, only those over a limit on their own account are reported (not
 * every one that refers to them). Tolerates any shape, like policyLevelIssues.
 */
export function conditionBudgetIssues(doc: unknown, shared: SharedConditions): BudgetIssue[] {
  const out: BudgetIssue[] = [];
  if (!isObj(doc)) return out;
  const overDepth = (depth: number) =>
    `conditions nest ${depth} levels deep, shared conditions expanded: at most ${MAX_CONDITION_DEPTH} are allowed`;
  for (const name of shared.names()) {
    const e = shared.expansion(name);
    const targets = shared
      .shape(name)
      .refs.filter((r) => shared.has(r.name))
      .map((r) => shared.expansion(r.name));
    if (e.nodes > MAX_CONDITION_NODES && targets.every((t) => t.nodes <= MAX_CONDITION_NODES))
      out.push({
        path: ["conditions", name],
        message: `expands to ${count(e.nodes)} condition nodes, ${EXPANDED}: at most ${MAX_CONDITION_NODES} are allowed`,
      });
    if (e.depth > MAX_CONDITION_DEPTH && targets.every((t) => t.depth <= MAX_CONDITION_DEPTH))
      out.push({ path: ["conditions", name], message: overDepth(e.depth) });
  }
  let total = 0;
  const rules = Array.isArray(doc.rules) ? doc.rules : [];
  rules.forEach((rule, i) => {
    if (!isObj(rule)) return;
    const e = shared.expand(treeShape(rule.conditions));
    total += e.nodes;
    if (e.depth > MAX_CONDITION_DEPTH) out.push({ path: ["rules", i, "conditions"], message: overDepth(e.depth) });
  });
  if (total > MAX_CONDITION_NODES)
    out.push({
      path: ["rules"],
      message: `the rules expand to ${count(total)} condition nodes, ${EXPANDED}: at most ${MAX_CONDITION_NODES} are allowed`,
    });
  return out;
}

/** A count as digits; past what a double holds exactly, a lower bound. */
function count(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : `more than ${Number.MAX_SAFE_INTEGER}`;
}
