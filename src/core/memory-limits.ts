// The limits that keep one object's memory sane: nesting depth, forbidden keys, serialized
// size of a patch and of the memory after it. Checked before anything changes.

import type { Problem } from "./errors.ts";
import { jsonBytes } from "./json.ts";
import { applyMergePatch, type PatchResult } from "./merge-patch.ts";
import { formatPath, type PathSegment } from "./paths.ts";
import type { JsonObject } from "./types.ts";

/** Keys that would reach an object's prototype in JavaScript; refused anywhere in a document. */
export const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface MemoryLimits {
  /** Maximum serialized size of the memory after the patch, in bytes. */
  maxMemoryBytes: number;
  /** Maximum serialized size of one patch, in bytes. */
  maxPatchBytes: number;
  /** Maximum nesting depth of objects and arrays (the top-level object is depth 1). */
  maxDepth: number;
  /**
   * Whether a number memory cannot keep exactly (past 2^53, or the double range) is refused;
   * unset, it is. Recorded history is not held to it: a Vigil before commit bb3d64f took such
   * numbers and recorded them.
   */
  numbers?: boolean;
}

export const DEFAULT_LIMITS: MemoryLimits = {
  maxMemoryBytes: 256 * 1024,
  maxPatchBytes: 64 * 1024,
  maxDepth: 16,
};

/**
 * Nesting allowed in a request body, and in a line of a simulation's traffic (whose facts sit as
 * deep). Generous (the governor holds memory to its own, tighter depth limit); it exists so that
 * no body can exhaust the stack of a recursive validator.
 */
export const MAX_BODY_DEPTH = 64;

/** The deepest limit {@link checkDocument} walks to: far from the stack's end. */
export const MAX_CHECKED_DEPTH = 1000;

/**
 * Checks a parsed document for forbidden keys, nesting deeper than `maxDepth` and, with
 * `numbers`, numbers memory cannot keep exactly (worded for a document that is sent, or with
 * `numbers: "written"` for one an author writes, a policy; `"finite"` refuses only a number past
 * the double range, which JSON.parse reads as Infinity and no schema takes). Paths are relative to the document (`$.a.b`),
 * in document order; at most `maxProblems` are returned. The walk recurses, but never below
 * `maxDepth` + 1 levels (at most {@link MAX_CHECKED_DEPTH}; every caller's is 64 or less),
 * whatever the document's nesting, and allocates nothing but the problems it finds (this runs
 * on every request body and patch).
 */
export function checkDocument(
  doc: unknown,
  opts: { maxDepth: number; maxProblems?: number; numbers?: boolean | "written" | "finite"; keys?: boolean },
): Problem[] {
  if (!(opts.maxDepth <= MAX_CHECKED_DEPTH))
    throw new RangeError(`checkDocument: maxDepth ${opts.maxDepth} is over ${MAX_CHECKED_DEPTH}`);
  const walk: Walk = {
    out: [],
    path: [],
    max: opts.maxProblems ?? Infinity,
    maxDepth: opts.maxDepth,
    numbers: opts.numbers === true ? "sent" : opts.numbers || null,
    keys: opts.keys ?? true,
  };
  if (walk.max > 0) check(walk, doc, 1);
  return walk.out;
}

/** A walk's state, passed down rather than closed over (no function is made per call). */
interface Walk {
  out: Problem[];
  path: PathSegment[];
  max: number;
  maxDepth: number;
  /** Whether numbers are checked, and how the advice is worded; "finite": only past the double range. */
  numbers: "sent" | "written" | "finite" | null;
  /** Whether the forbidden keys are reported (a body whose items are checked one by one: not). */
  keys: boolean;
}

function check(w: Walk, v: unknown, depth: number): void {
  if (typeof v === "number") {
    const checked = w.numbers !== null && !(w.numbers === "finite" && Number.isFinite(v));
    const problem = checked ? numberProblem(v, w.numbers === "written" ? "write" : "send") : null;
    if (problem) report(w, problem);
    return;
  }
  if (v === null || typeof v !== "object") return;
  if (depth > w.maxDepth) return report(w, `nesting deeper than ${w.maxDepth} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && w.out.length < w.max; i++) {
      w.path.push(i);
      check(w, v[i], depth + 1);
      w.path.pop();
    }
    return;
  }
  for (const key of Object.keys(v)) {
    if (w.out.length >= w.max) return;
    w.path.push(key);
    if (w.keys && FORBIDDEN_KEYS.has(key)) report(w, `the key "${key}" is not allowed`);
    else check(w, (v as Record<string, unknown>)[key], depth + 1);
    w.path.pop();
  }
}

function report(w: Walk, message: string): void {
  w.out.push({ path: formatPath(w.path), message });
}

/**
 * A number JSON can carry but memory cannot keep as sent: past the double range it parsed as
 * Infinity (stored as null), and past 2^53 - 1 an integer may have lost digits already (none
 * is kept: 9007199254740993 reads as ...992, and nothing tells it from one sent so).
 */
export function numberProblem(v: number, verb: "send" | "write"): string | null {
  if (!Number.isFinite(v))
    return `the number is too large to ${verb === "send" ? "store" : "represent"} (it would become null): ${verb} a smaller one, or a string`;
  if (Number.isInteger(v) && !Number.isSafeInteger(v))
    return `integers beyond ±${Number.MAX_SAFE_INTEGER} are not kept, for past it digits may be lost (this one reads as ${v}): ${verb} it as a string`;
  return null;
}

/**
 * The most problems of forbidden keys, depth and numbers a patch or memory is refused with, as
 * a request body is (http/validation.ts). Without a limit, a body of 1 MiB held 174,000 numbers
 * too large to keep, each a problem with its path: a reply of 22 MB, and under a few long keys
 * a message longer than a string may be, which failed as if the policy had.
 */
export const MAX_LIMIT_PROBLEMS = 20;

/** Forbidden keys, depth, and the document's size against `maxBytes` (`what` names it). */
function sizedProblems(doc: JsonObject, limits: MemoryLimits, maxBytes: number, what: string): Problem[] {
  const problems = checkDocument(doc, {
    maxDepth: limits.maxDepth,
    numbers: limits.numbers ?? true,
    maxProblems: MAX_LIMIT_PROBLEMS,
  });
  let size: number;
  try {
    size = jsonBytes(doc);
  } catch {
    // Too deep for JSON.stringify's stack: the depth problem above already refuses it.
    return problems;
  }
  if (size > maxBytes) problems.push({ path: "$", message: `${what} is ${size} bytes; the limit is ${maxBytes}` });
  return problems;
}

/** An object's initial memory against the limits; paths relative to the memory. */
export function memoryProblems(memory: JsonObject, limits: MemoryLimits): Problem[] {
  return sizedProblems(memory, limits, limits.maxMemoryBytes, "memory");
}

/** Thrown when a patch breaks a memory limit; nothing has changed. */
export class MemoryLimitError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    this.name = "MemoryLimitError";
  }
}

/** Checks a patch against the limits and merges it; throws {@link MemoryLimitError}. */
export function mergeChecked(memory: JsonObject, patch: JsonObject, limits: MemoryLimits): PatchResult {
  const problems = sizedProblems(patch, limits, limits.maxPatchBytes, "patch");
  if (problems.length > 0) throw new MemoryLimitError(problems);
  const merged = applyMergePatch(memory, patch);
  const size = jsonBytes(merged.memory);
  if (size > limits.maxMemoryBytes)
    throw new MemoryLimitError([
      { path: "$", message: `memory would be ${size} bytes; the limit is ${limits.maxMemoryBytes}` },
    ]);
  return merged;
}
