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
}

export const DEFAULT_LIMITS: MemoryLimits = {
  maxMemoryBytes: 256 * 1024,
  maxPatchBytes: 64 * 1024,
  maxDepth: 16,
};

interface Node {
  value: unknown;
  depth: number;
  parent: Node | null;
  key: PathSegment;
  /** A key that is not allowed, reported when the walk reaches it (in document order). */
  forbidden?: boolean;
}

/**
 * Checks a parsed document for forbidden keys, nesting deeper than `maxDepth` and, with
 * `numbers`, numbers memory cannot keep exactly, without
 * recursion (so no document can exhaust the stack). Paths are relative to the document
 * (`$.a.b`), in document order; at most `maxProblems` are returned.
 */
export function checkDocument(
  doc: unknown,
  opts: { maxDepth: number; maxProblems?: number; numbers?: boolean },
): Problem[] {
  const out: Problem[] = [];
  const max = opts.maxProblems ?? Infinity;
  const stack: Node[] = [{ value: doc, depth: 1, parent: null, key: "" }];
  while (stack.length > 0 && out.length < max) {
    const node = stack.pop()!;
    if (node.forbidden) {
      out.push({ path: pathOf(node), message: `the key "${String(node.key)}" is not allowed` });
      continue;
    }
    const v = node.value;
    if (typeof v === "number") {
      const problem = opts.numbers ? numberProblem(v) : null;
      if (problem) out.push({ path: pathOf(node), message: problem });
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (node.depth > opts.maxDepth) {
      out.push({ path: pathOf(node), message: `nesting deeper than ${opts.maxDepth} levels` });
      continue;
    }
    const children: Node[] = [];
    if (Array.isArray(v))
      v.forEach((value, i) => children.push({ value, depth: node.depth + 1, parent: node, key: i }));
    else
      for (const key of Object.keys(v)) {
        const value = (v as Record<string, unknown>)[key];
        children.push({ value, depth: node.depth + 1, parent: node, key, forbidden: FORBIDDEN_KEYS.has(key) });
      }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return out;
}

/**
 * A number JSON can carry but memory cannot keep as sent: past the double range it parsed as
 * Infinity (stored as null), and past 2^53 - 1 an integer has already lost digits.
 */
function numberProblem(v: number): string | null {
  if (!Number.isFinite(v))
    return "the number is too large to store (it would become null): send a smaller one, or a string";
  if (Number.isInteger(v) && !Number.isSafeInteger(v))
    return `integers beyond ±${Number.MAX_SAFE_INTEGER} lose digits (this one reads as ${v}): send it as a string`;
  return null;
}

function pathOf(node: Node): string {
  const segments: PathSegment[] = [];
  for (let n: Node | null = node; n?.parent; n = n.parent) segments.push(n.key);
  return formatPath(segments.reverse());
}

/** Forbidden keys, depth, and the document's size against `maxBytes` (`what` names it). */
function sizedProblems(doc: JsonObject, limits: MemoryLimits, maxBytes: number, what: string): Problem[] {
  const problems = checkDocument(doc, { ...limits, numbers: true });
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
