// JSON values as plain data: the type test, structural equality, canonical text and size.

import type { Problem } from "./errors.ts";
import type { Json, JsonObject } from "./types.ts";

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

/**
 * JSON with object keys sorted at every level: equal documents give equal text, and different
 * ones different text. A number JSON cannot hold (`1e400` read as Infinity, NaN) is written as
 * its name, not as `null` as JSON.stringify would (a fingerprint must not take it for `null`).
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(",")}}`;
}

/**
 * JSON text of a document, remembered per object for a while: an arrival serializes its patch
 * and the memory after it once, for the size limits, and the commit moments later stores that
 * same text. Records and their memory are never changed in place (every change makes new
 * objects), which is what makes remembering by identity safe.
 *
 * Only recent texts are kept (two generations of `TEXTS_PER_GENERATION`): kept for as long as
 * the object lived, every hot object's memory was held twice, as objects and as text, and the
 * next arrival makes a new memory anyway. A text forgotten before its commit is made again.
 */
export function jsonText(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  let text = texts.young.get(value) ?? texts.old.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (++texts.count > TEXTS_PER_GENERATION) {
      texts.old = texts.young;
      texts.young = new WeakMap();
      texts.count = 1;
    }
    texts.young.set(value, text);
  }
  return text;
}

const TEXTS_PER_GENERATION = 8192;
const texts = { young: new WeakMap<object, string>(), old: new WeakMap<object, string>(), count: 0 };

/** Serialized size in UTF-8 bytes. */
export function jsonBytes(value: Json): number {
  return utf8Length(jsonText(value));
}

/** The UTF-8 length of a string, counted without encoding it (this runs on every arrival). */
export function utf8Length(s: string): number {
  // Mostly ASCII, where the length is the count: the regular expression runs natively.
  if (!NON_ASCII.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      // A surrogate pair: two UTF-16 units, four UTF-8 bytes.
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
        continue;
      }
      n += 2;
    } else n += 2;
  }
  return n;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** A JSON value in a few words: "an array", "the string \"x\"", "a number too large to represent". */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "undefined":
      return "nothing";
    case "string":
      return value.length <= 40 ? `the string ${JSON.stringify(value)}` : "a string";
    case "number":
      if (Number.isNaN(value)) return "not a number";
      return Number.isFinite(value) ? `the number ${value}` : "a number too large to represent";
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

/** Parses JSON text; a syntax error becomes a problem with line and column. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const at = pos ? Number(pos[1]) : errorOffset(text, reasonOf(message));
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    return {
      ok: false,
      problem: { path: "$", message: `not valid JSON (line ${line}, column ${column}): ${reasonOf(message)}` },
    };
  }
}

/**
 * Whether JSON text fails to parse only because it ends too soon: where the parser gave up is
 * its end (an empty text, an unterminated string, an object not closed). A file caught while
 * it is written in pieces reads so.
 */
export function endsEarly(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (e) {
    const message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const at = pos ? Number(pos[1]) : errorOffset(text, reasonOf(message));
    return at >= text.trimEnd().length;
  }
}

/** V8's message without its position or its quote of the whole text. */
const reasonOf = (message: string) =>
  message
    .replace(/ (?:in JSON )?at position \d+.*$/s, "")
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, "")
    .replace(/[\n\r]/g, (c) => (c === "\n" ? "\\n" : "\\r"));

/**
 * Where JSON.parse gave up, when its message does not say. Parsing runs left to right, so a
 * prefix fails for the same reason as the whole text exactly when it holds the offending
 * character: the shortest such prefix, found by bisection, ends with it.
 */
function errorOffset(text: string, reason: string): number {
  // Where what it holds ends (after a `:`, not on the blank lines after it); in a text of
  // whitespace alone, where the text ends (not line 1, column 1 of a file of blank lines).
  if (/end of JSON input/.test(reason)) return text.trimEnd().length || text.length;
  const same = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      return reasonOf((e as Error).message) === reason;
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (same(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}
