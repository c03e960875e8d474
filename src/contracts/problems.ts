// zod's issues as Vigil's `{path, message}` problems, choosing the closest branch of a failed
// union so that an author sees what is wrong with the shape they meant, not with every other.

import type { z } from "zod";
import type { Problem } from "../core/errors.ts";
import { numberProblem } from "../core/memory-limits.ts";
import { formatPath, type PathSegment } from "../core/paths.ts";
// Also installs the plain-words error map for every schema whose issues come through here.
import { wrongType } from "./messages.ts";

/** Turns zod issues into `{path, message}`. */
export function zodProblems(error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  /** The problems that say a value is of the wrong type, and their paths. */
  const wrongType = new Set<Problem>();
  const wrongTypeAt = new Set<string>();
  const add = (issues: readonly z.core.$ZodIssue[], prefix: PathSegment[]): void => {
    for (const issue of issues) {
      const path = [...prefix, ...(issue.path as PathSegment[])];
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        const missing = missingForEvery(issue.errors);
        if (missing !== null) out.push({ path: formatPath(path), message: missing });
        else if (onlyTooLarge(issue.errors)) out.push({ path: formatPath(path), message: TOO_LARGE_ADVICE });
        else add(closestBranch(issue.errors), path);
        continue;
      }
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: "unknown property" });
        continue;
      }
      const problem = { path: formatPath(path), message: issue.message };
      if (issue.code === "invalid_type") {
        wrongType.add(problem);
        wrongTypeAt.add(problem.path);
      }
      out.push(problem);
    }
  };
  add(error.issues, []);
  // zod runs a string's length checks on a value of another type that has a length too: `[]`
  // for a string of at least 1 character was "expected a string, got an array" and "must hold
  // at least 1 item" at the same path. Only the wrong type is said.
  const kept = wrongTypeAt.size === 0 ? out : out.filter((p) => !wrongTypeAt.has(p.path) || wrongType.has(p));
  return dedupeProblems(kept);
}

const REQUIRED = "required: expected ";

/**
 * When the value is missing, every branch says only that: one message naming what each would
 * take ("required: expected a string, a number, ... or an object"), not the first branch's alone.
 */
function missingForEvery(branches: z.core.$ZodIssue[][]): string | null {
  const wants: string[] = [];
  for (const issues of branches) {
    const [only] = issues;
    if (issues.length !== 1 || only!.path.length !== 0 || !only!.message.startsWith(REQUIRED)) return null;
    const want = only!.message.slice(REQUIRED.length);
    if (!wants.includes(want)) wants.push(want);
  }
  const last = wants.pop()!;
  return `${REQUIRED}${wants.length > 0 ? `${wants.join(", ")} or ${last}` : last}`;
}

/** A number too large for a double (`1e400`, which JSON parses as Infinity), in zod's words. */
const TOO_LARGE = wrongType("number", Infinity);
const TOO_LARGE_ADVICE = numberProblem(Infinity, "send")!;
const only = (issues: z.core.$ZodIssue[], expected: string) =>
  issues.length === 1 &&
  issues[0]!.code === "invalid_type" &&
  issues[0]!.expected === expected &&
  issues[0]!.path.length === 0;

/**
 * A union taking a number or a string (any JSON value, `z.json()`) refused a number only for
 * its size: that is the problem to name, with the advice to send a string, not the first
 * branch's "expected a string".
 */
function onlyTooLarge(branches: z.core.$ZodIssue[][]): boolean {
  return (
    branches.some((b) => only(b, "number") && b[0]!.message === TOO_LARGE) && branches.some((b) => only(b, "string"))
  );
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

/** The same message at the same path once. */
export function dedupeProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
