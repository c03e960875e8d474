// The operators a condition may name, as plain functions: json-rules-engine 7's default
// operators and operator decorators, rewritten expression for expression from its dist
// (engine-default-operators.js, engine-default-operator-decorators.js, operator.js,
// operator-decorator.js, operator-map.js), and Vigil's time operators olderThan/within. The
// compiled evaluator runs them; buildEngine registers the time operators with json-rules-engine,
// so both engines share one definition of those.
//
// The rewrite keeps json-rules-engine's exact JavaScript operations (`===`, `<`, `indexOf`,
// `some`, ...) and their order, because its semantics are those operations' coercions: "10" > 9,
// `in` on a string being a substring test, a TypeError when `in` meets a value without indexOf.

import { BoundedMap } from "./bounded-map.ts";
import { parseDuration } from "./durations.ts";

/**
 * A (possibly decorated) operator: the condition's fact value, its `value` (or the other fact's
 * value), and the evaluation's `now` for the time operators. Like json-rules-engine's it may
 * throw (a TypeError) when a value does not have the shape the operator uses.
 */
export type OperatorFn = (factValue: unknown, jsonValue: unknown, now: number) => boolean;

/** What `indexOf` is called on: an array or, for `in`, possibly a string (a substring test). */
type Indexable = { indexOf(x: unknown): number };
type Comparable = number;

/**
 * Parses a timestamp fact value: epoch milliseconds or an ISO 8601 string. A date-time without
 * a zone is read as UTC, as a date alone is (Date.parse would read it in the server's time
 * zone, so a fixture's result would hang on the machine's `TZ`); any other string is not a
 * timestamp.
 */
export function toEpochMs(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const t = parseUtcStamp(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * Date.parse, with a fast path for the form timestamps mostly take (toISOString's,
 * `2026-03-01T12:00:00Z` or with `.sss`): Date.parse costs about 300 ns, a large part of a
 * compiled evaluation that reads a few timestamps. The fast path takes only dates that every
 * engine reads the same way (years from 1000, days up to 28, no leap second or hour 24); the
 * rest goes to Date.parse.
 */
function parseUtcStamp(s: string): number {
  const n = s.length;
  if (
    (n === 20 || (n === 24 && s.charCodeAt(19) === 46)) &&
    s.charCodeAt(n - 1) === 90 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 84 &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58
  ) {
    const century = twoDigits(s, 0);
    const year = century * 100 + twoDigits(s, 2);
    const month = twoDigits(s, 5);
    const day = twoDigits(s, 8);
    const hour = twoDigits(s, 11);
    const minute = twoDigits(s, 14);
    const second = twoDigits(s, 17);
    const ms = n === 24 ? twoDigits(s, 20) * 10 + digit(s, 22) : 0;
    if (
      century >= 10 &&
      year >= 1000 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    )
      return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
  }
  const iso = ISO_STAMP.exec(s);
  if (iso === null || !dayExists(s)) return Number.NaN;
  return Date.parse(iso[2] === undefined && iso[1] !== undefined ? `${s}Z` : s);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether an ISO date's day is one its month has: Date.parse takes any day up to 31 and rolls
 * over (`2026-02-30` would be March 2), so a date that does not exist is no timestamp here.
 */
function dayExists(s: string): boolean {
  const sign = s[0] === "+" || s[0] === "-" ? 1 : 0;
  const dash = s.indexOf("-", sign);
  const year = Number(s.slice(0, dash));
  const month = Number(s.slice(dash + 1, dash + 3));
  const day = Number(s.slice(dash + 4, dash + 6));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : MONTH_DAYS[month - 1];
  return days !== undefined && day >= 1 && day <= days;
}

/**
 * ISO 8601 as Date.parse reads it the same way everywhere: a date (a four-digit year, or a
 * signed six-digit one: other years go to its legacy parser, which reads them in the server's
 * time zone), or a date and a time (after `T` or a space, group 1) with an optional zone
 * (group 2: `Z` or an offset).
 */
const ISO_STAMP =
  /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}(?:([Tt ])\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/** The digit at s[i], or a large negative number when it is not one (so any sum with it is too). */
function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -10_000;
}

/** The two-digit number at s[i], or a negative number when either is not a digit. */
function twoDigits(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil); Date.UTC costs 3x. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/**
 * The most durations the cache below keeps. Candidate policies, and fact values compared under
 * `swap`, can bring ever new duration strings: past this many, the oldest is dropped.
 */
export const DURATION_CACHE_LIMIT = 4096;
/**
 * The longest duration text the cache keeps. A duration may be written with any number of
 * digits (`PT1.000…0S` is one second), as long as a candidate policy or an object's memory may
 * be (256 KiB), and both come from clients: kept whatever their length, 4,096 of them held about
 * 1 GB. Policies write a handful of characters (`PT5M`, `P1DT12H`); a longer one is parsed at
 * each use.
 */
export const DURATION_CACHE_MAX_CHARS = 64;
const durationCache = new BoundedMap<string, number>(DURATION_CACHE_LIMIT);
/** How many durations are cached (for tests). */
export const durationCacheSize = (): number => durationCache.size;
/** An ISO 8601 duration in ms, or null; memoised because conditions repeat the same few. */
function cachedDuration(text: unknown): number | null {
  if (typeof text !== "string") return null;
  let ms = durationCache.get(text);
  if (ms === undefined) {
    const parsed = parseDuration(text);
    if (parsed === null) return null;
    ms = parsed;
    if (text.length <= DURATION_CACHE_MAX_CHARS) durationCache.set(text, ms);
  }
  return ms;
}

/** olderThan: the timestamp lies more than the duration before now. */
export function olderThan(now: number, fact: unknown, value: unknown): boolean {
  const t = toEpochMs(fact);
  const d = cachedDuration(value);
  return t !== null && d !== null && now - t > d;
}

/** within: the timestamp lies within the duration of now, before or after. */
export function within(now: number, fact: unknown, value: unknown): boolean {
  const t = toEpochMs(fact);
  const d = cachedDuration(value);
  return t !== null && d !== null && Math.abs(now - t) <= d;
}

/**
 * json-rules-engine's numberValidator, `Number.parseFloat(v).toString() !== 'NaN'`: parseFloat
 * reads String(v), so "10", "10abc", [10] and Infinity pass, and a number passes unless NaN.
 */
function isNumeric(v: unknown): boolean {
  return typeof v === "number" ? v === v : !Number.isNaN(Number.parseFloat(v as string));
}

/**
 * The base operators. json-rules-engine runs `validator(fact) && callback(fact, value)`; the
 * validators (Array.isArray for contains/doesNotContain, numeric for the comparisons) are
 * folded in as the left operand of `&&`.
 */
const BASE: Record<string, OperatorFn> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as Indexable).indexOf(a) > -1,
  notIn: (a, b) => (b as Indexable).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumeric(a) && (a as Comparable) < (b as Comparable),
  lessThanInclusive: (a, b) => isNumeric(a) && (a as Comparable) <= (b as Comparable),
  greaterThan: (a, b) => isNumeric(a) && (a as Comparable) > (b as Comparable),
  greaterThanInclusive: (a, b) => isNumeric(a) && (a as Comparable) >= (b as Comparable),
  olderThan: (a, b, now) => olderThan(now, a, b),
  within: (a, b, now) => within(now, a, b),
};

/**
 * The decorators, each wrapping the operator to its right. someFact/everyFact validate that the
 * fact is an array (false otherwise); someValue/everyValue call `.some`/`.every` on the value
 * unchecked, as json-rules-engine does (a TypeError when it is not an array). A decorated
 * operator's validator is the decorator's, never the inner operator's.
 */
const DECORATORS: Record<string, (next: OperatorFn) => OperatorFn> = {
  someFact: (next) => (f, v, now) => Array.isArray(f) && f.some((x) => next(x, v, now)),
  someValue: (next) => (f, v, now) => (v as unknown[]).some((x) => next(f, x, now)),
  everyFact: (next) => (f, v, now) => Array.isArray(f) && f.every((x) => next(x, v, now)),
  everyValue: (next) => (f, v, now) => (v as unknown[]).every((x) => next(f, x, now)),
  swap: (next) => (f, v, now) => next(v, f, now),
  not: (next) => (f, v, now) => !next(f, v, now),
};

/** An undecorated operator with its value bound: what most conditions compile to. */
export type FactTest = (factValue: unknown, now: number) => boolean;

/**
 * The base operator `name` with a constant `value` bound, its work on the value done once (a
 * duration parsed); the same results as composeOperator(name)(fact, value, now). Null where
 * the general operator is to be used (decorators, or `in` over a value it would throw on).
 */
export function constantTest(name: string, value: unknown): FactTest | null {
  const v = value as Comparable;
  switch (name) {
    case "equal":
      return (a) => a === value;
    case "notEqual":
      return (a) => a !== value;
    case "in":
    case "notIn": {
      if (!Array.isArray(value) && typeof value !== "string") return null;
      const b = value as Indexable;
      return name === "in" ? (a) => b.indexOf(a) > -1 : (a) => b.indexOf(a) === -1;
    }
    case "contains":
      return (a) => Array.isArray(a) && a.indexOf(value) > -1;
    case "doesNotContain":
      return (a) => Array.isArray(a) && a.indexOf(value) === -1;
    case "lessThan":
      return (a) => isNumeric(a) && (a as Comparable) < v;
    case "lessThanInclusive":
      return (a) => isNumeric(a) && (a as Comparable) <= v;
    case "greaterThan":
      return (a) => isNumeric(a) && (a as Comparable) > v;
    case "greaterThanInclusive":
      return (a) => isNumeric(a) && (a as Comparable) >= v;
    case "olderThan":
    case "within": {
      // Parsing the timestamp has no effect to keep when the duration is not one.
      const d = cachedDuration(value);
      if (d === null) return () => false;
      return name === "olderThan"
        ? (a, now) => {
            const t = toEpochMs(a);
            return t !== null && now - t > d;
          }
        : (a, now) => {
            const t = toEpochMs(a);
            return t !== null && Math.abs(now - t) <= d;
          };
    }
    default:
      return null;
  }
}

/**
 * Builds `not:someFact:equal` and the like; null for a name json-rules-engine would not know.
 * As in its OperatorMap.get, the leftmost decorator is the outermost.
 */
export function composeOperator(name: string): OperatorFn | null {
  const parts = name.split(":");
  const base = parts.pop();
  let op = base !== undefined && Object.hasOwn(BASE, base) ? BASE[base]! : null;
  for (let i = parts.length - 1; op !== null && i >= 0; i--) {
    const decorator = parts[i]!;
    op = Object.hasOwn(DECORATORS, decorator) ? DECORATORS[decorator]!(op) : null;
  }
  return op;
}
