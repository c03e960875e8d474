// The condition `path` grammar: `$`, then `.name` or `[index]` segments (`$.queue.depth`,
// `$.jobs[0].id`, `$["odd key"]`). Vigil resolves it itself instead of jsonpath-plus: it is
// an order of magnitude faster and its meaning fits in one line of docs.

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*/;
const INDEX = /^\[(\d+)\]/;
const QUOTED = /^\["((?:[^"\\]|\\.)*)"\]/;

/** Parses a path; returns `null` when it falls outside the grammar. Never throws. */
export function parsePath(path: string): PathSegment[] | null {
  if (typeof path !== "string" || !path.startsWith("$")) return null;
  const segments: PathSegment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    if (rest.startsWith(".")) {
      const m = IDENT.exec(rest.slice(1));
      if (!m) return null;
      segments.push(m[0]);
      rest = rest.slice(1 + m[0].length);
      continue;
    }
    const idx = INDEX.exec(rest);
    if (idx) {
      // The key the digits spell, as jsonpath-plus reads them: `[01]` is the key "01", not 1,
      // and an index past 2^53 keeps its digits (Number() would round them to another key).
      const digits = idx[1]!;
      const n = Number(digits);
      segments.push(String(n) === digits ? n : digits);
      rest = rest.slice(idx[0].length);
      continue;
    }
    const quoted = QUOTED.exec(rest);
    if (quoted) {
      const key = unescapeKey(quoted[1]!);
      if (key === null) return null;
      segments.push(key);
      rest = rest.slice(quoted[0].length);
      continue;
    }
    return null;
  }
  return segments;
}

/**
 * The text of a quoted segment read as a JSON string, or null when JSON does not know one of
 * its escapes (`\x`, `\u12`): parsePath is total, it never throws, because it runs inside
 * validation and on hot reload.
 */
function unescapeKey(text: string): string | null {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return null;
  }
}

export const PATH_HELP = 'a path such as $.queue.depth, $.jobs[0].id or $["odd key"]';

/**
 * Reads a parsed path; a missing step yields `undefined`. Own properties only. Each step is a
 * property name of a truthy value, exactly as jsonpath-plus (json-rules-engine's reference
 * resolver) reads it: `$.jobs.length` is an array's length, `$.s[0]` a string's first
 * character, `$.byId[0]` the key "0" of an object.
 */
export function readPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (!current) return undefined;
    const key = String(segment);
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Formats segments back into the canonical path text. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "$";
  for (const s of segments) out += formatSegment(s);
  return out;
}

/** One segment of a path as {@link formatPath} writes it: `[0]`, `.name` or `["odd key"]`. */
export function formatSegment(s: PathSegment): string {
  if (typeof s === "number") return `[${s}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}

/** The most paths resolvePath keeps parsed... */
export const PATH_CACHE_ENTRIES = 10_000;
/**
 * ... and the longest it keeps, in characters. A path may be as long as a policy (256 KiB), and
 * a candidate policy comes from any `read` token: were every path kept, 10,000 candidates run on
 * json-rules-engine (one whose compiled rules throw is run again there) held their paths, each
 * one twice over (the text and its parsed segment), about 3 GB, for good. Policies' paths are a
 * few dozen characters; a longer one is parsed again at each use, as the compiled rules' are
 * once per policy.
 */
export const PATH_CACHE_MAX_CHARS = 256;
const cache = new Map<string, PathSegment[] | null>();

/** How many paths resolvePath keeps, and their characters in all (for tests). */
export function pathCacheSize(): { entries: number; chars: number } {
  let chars = 0;
  for (const path of cache.keys()) chars += path.length;
  return { entries: cache.size, chars };
}

/**
 * json-rules-engine `pathResolver`: memoised parse, then a plain walk. Paths are validated
 * at policy load, so an unparsable one here resolves to `undefined`.
 */
export function resolvePath(value: object, path: string): unknown {
  let segments = cache.get(path);
  if (segments === undefined) {
    segments = parsePath(path);
    if (cache.size < PATH_CACHE_ENTRIES && path.length <= PATH_CACHE_MAX_CHARS) cache.set(path, segments);
  }
  return segments === null ? undefined : readPath(value, segments);
}
