// Policy validation: the zod shape plus the warnings json-rules-engine's coercions deserve.
// Pure: takes a parsed JSON document, returns the policy or every error with its JSON path.

import type { z } from "zod";
import {
  isFactRef,
  policyLevelIssues,
  policySchema,
  type Condition,
  type PolicyDocument,
} from "../contracts/policy.ts";
import { formatPath, parsePath, readPath, type PathSegment } from "./paths.ts";
import { NEGATIVE_OPERATORS, splitOperator } from "./vocabulary.ts";

export interface Problem {
  /** JSON path inside the document, e.g. `$.rules[1].event.type`. */
  path: string;
  message: string;
}

export type ValidationResult =
  { valid: true; policy: PolicyDocument; warnings: Problem[] } | { valid: false; errors: Problem[] };

/** Validates a parsed policy document. `expectedName` (the file's base name) must match `name`. */
export function validatePolicy(doc: unknown, expectedName?: string): ValidationResult {
  const parsed = policySchema.safeParse(doc);
  if (!parsed.success) {
    // The schema's own cross-document checks run only on a well-shaped document; run them
    // anyway, so that every error is reported at once.
    const more = policyLevelIssues(doc).map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { valid: false, errors: dedupe([...zodProblems(parsed.error), ...more]) };
  }
  const policy = parsed.data;
  if (expectedName !== undefined && policy.name !== expectedName) {
    return {
      valid: false,
      errors: [
        { path: "$.name", message: `must match the file name: expected "${expectedName}", got "${policy.name}"` },
      ],
    };
  }
  return { valid: true, policy, warnings: policyWarnings(policy) };
}

/** Re-roots problems found inside a part of a document (`$.a` under `$.policy` is `$.policy.a`). */
export function prefixProblems(problems: Problem[], at: string): Problem[] {
  return problems.map((p) => ({ path: at + p.path.slice(1), message: p.message }));
}

/** Turns zod issues into `{path, message}`, choosing the closest branch of a failed union. */
export function zodProblems(error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  const add = (issues: readonly z.core.$ZodIssue[], prefix: PathSegment[]): void => {
    for (const issue of issues) {
      const path = [...prefix, ...(issue.path as PathSegment[])];
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        add(closestBranch(issue.errors), path);
        continue;
      }
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: "unknown property" });
        continue;
      }
      out.push({ path: formatPath(path), message: issue.message });
    }
  };
  add(error.issues, []);
  return dedupe(out);
}

/** The union branch that got furthest: fewest complaints about the object itself. */
function closestBranch(branches: z.core.$ZodIssue[][]): z.core.$ZodIssue[] {
  let best = branches[0]!;
  let bestScore = Infinity;
  for (const issues of branches) {
    const shallow = issues.filter((i) => i.path.length === 0).length;
    const score = shallow * 1000 + issues.length;
    if (score < bestScore) {
      best = issues;
      bestScore = score;
    }
  }
  return best;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * json-rules-engine's coercion corners made visible: `in` on a string is a substring test,
 * numeric operators coerce numeric strings (`"10" > 9`), and negative operators pass on a
 * missing path.
 */
export function policyWarnings(policy: PolicyDocument): Problem[] {
  const out: Problem[] = [];
  const visit = (c: Condition, path: PathSegment[]): void => {
    if ("all" in c) return c.all.forEach((x, i) => visit(x, [...path, "all", i]));
    if ("any" in c) return c.any.forEach((x, i) => visit(x, [...path, "any", i]));
    if ("not" in c) return visit(c.not, [...path, "not"]);
    if ("condition" in c) return;
    const { base, decorators } = splitOperator(c.operator);
    const at = formatPath(path);
    if ((base === "in" || base === "notIn") && typeof c.value === "string" && !decorators.includes("swap"))
      out.push({
        path: `${at}.value`,
        message: `"${base}" with a string value is a substring test, not list membership`,
      });
    if (base.startsWith("lessThan") || base.startsWith("greaterThan")) {
      if (typeof c.value === "string")
        out.push({
          path: `${at}.value`,
          message: `"${base}" compares with a string: JavaScript coerces ("10" > 9 is true, "abc" > 1 is false)`,
        });
    }
    const defaulted = c.fact === "memory" && c.path !== undefined && hasDefault(policy, c.path);
    if (NEGATIVE_OPERATORS.has(base) && c.path !== undefined && !isFactRef(c.value) && !defaulted)
      out.push({ path: `${at}.operator`, message: `"${base}" is true when ${c.path} is missing from memory` });
    if (base === "equal" && c.fact === "memory" && c.path === undefined)
      out.push({ path: `${at}.path`, message: "comparing the whole memory document: did you mean to give a path?" });
  };
  policy.rules.forEach((r, i) => visit(r.conditions, ["rules", i, "conditions"]));
  for (const [key, c] of Object.entries(policy.conditions ?? {})) visit(c, ["conditions", key]);
  return out;
}

/** A memory path the policy's `defaults` fill in is never missing. */
function hasDefault(policy: PolicyDocument, path: string): boolean {
  const segments = parsePath(path);
  return segments !== null && readPath(policy.defaults ?? {}, segments) !== undefined;
}
