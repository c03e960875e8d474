// JSON Merge Patch (RFC 7396) with the limits that keep one object's memory sane:
// nesting depth, forbidden keys, serialized size. Also reports which paths a patch changed.

import { formatPath, type PathSegment } from "./paths.ts";
import type { Json, JsonObject } from "./types.ts";

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

export interface LimitViolation {
  path: string;
  message: string;
}

/**
 * Checks a patch (or an initial memory) for forbidden keys and depth; returns every violation.
 * The path of each violation is relative to the patch (`$.a.b`).
 */
export function checkDocument(doc: Json, limits: MemoryLimits): LimitViolation[] {
  const out: LimitViolation[] = [];
  const walk = (value: Json, path: PathSegment[], depth: number): void => {
    if (value === null || typeof value !== "object") return;
    if (depth > limits.maxDepth) {
      out.push({ path: formatPath(path), message: `nesting deeper than ${limits.maxDepth} levels` });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i], depth + 1));
      return;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        out.push({ path: formatPath([...path, key]), message: `the key "${key}" is not allowed` });
        continue;
      }
      walk(value[key]!, [...path, key], depth + 1);
    }
  };
  walk(doc, [], 1);
  return out;
}

export interface PatchResult {
  memory: JsonObject;
  /** Paths whose value changed, deepest first-touched leaf paths (`$.queue.depth`). */
  changed: string[];
}

/**
 * Applies a merge patch to memory without mutating either. The patch must be an object
 * (memory is always an object). Unchanged values keep their identity.
 */
export function applyMergePatch(memory: JsonObject, patch: JsonObject): PatchResult {
  const changed: string[] = [];
  const merged = mergeObject(memory, patch, [], changed);
  return { memory: merged, changed };
}

function mergeObject(target: JsonObject, patch: JsonObject, path: PathSegment[], changed: string[]): JsonObject {
  const result: JsonObject = { ...target };
  for (const key of Object.keys(patch)) {
    const value = patch[key]!;
    const here = [...path, key];
    const had = Object.hasOwn(target, key);
    if (value === null) {
      if (had) {
        delete result[key];
        changed.push(formatPath(here));
      }
      continue;
    }
    const current = had ? target[key]! : undefined;
    if (isPlainObject(value)) {
      const base = current !== undefined && isPlainObject(current) ? current : {};
      if (current === undefined || !isPlainObject(current)) {
        // A scalar or array replaced by an object counts as a change of the key itself.
        if (current !== undefined) changed.push(formatPath(here));
        const sub: string[] = [];
        result[key] = mergeObject(base, value, here, sub);
        if (current === undefined) changed.push(...(sub.length > 0 ? sub : [formatPath(here)]));
      } else {
        result[key] = mergeObject(base, value, here, changed);
      }
      continue;
    }
    if (current === undefined || !jsonEqual(current, value)) {
      result[key] = value;
      changed.push(formatPath(here));
    }
  }
  return result;
}

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Structural equality of JSON values. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]!));
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
}

/** Deep merge of defaults under memory: memory wins, objects merge, arrays replace. */
export function withDefaults(defaults: JsonObject, memory: JsonObject): JsonObject {
  const out: JsonObject = { ...defaults };
  for (const key of Object.keys(memory)) {
    const m = memory[key]!;
    const d = out[key];
    out[key] = d !== undefined && isPlainObject(d) && isPlainObject(m) ? withDefaults(d, m) : m;
  }
  return out;
}

const utf8 = new TextEncoder();

/** Serialized size in UTF-8 bytes. */
export function jsonBytes(value: Json): number {
  return utf8.encode(JSON.stringify(value)).length;
}

/** Memory as of the last entry: snapshots replace, patches merge. */
export function foldJournal(entries: readonly { patch: JsonObject; kind?: "patch" | "snapshot" }[]): JsonObject {
  let memory: JsonObject = {};
  for (const e of entries) memory = e.kind === "snapshot" ? e.patch : applyMergePatch(memory, e.patch).memory;
  return memory;
}

/** JSON with object keys sorted at every level: equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(",")}}`;
}
