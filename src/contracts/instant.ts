// A time read from outside (a dry run's `at`, a policy's `at` and `wakeAt`, a window's `from`
// and `to`): an ISO 8601 date-time with a zone whose UTC instant has a four-digit year, so that
// every time Vigil writes back from it is RFC 3339 (core/instants.ts says why).

import { z } from "zod";
import { EARLIEST_INSTANT_MS, isInstantWithin, LATEST_INSTANT_MS } from "../core/instants.ts";

const iso = (ms: number) => new Date(ms).toISOString();

const FOUR_DIGITS = "a time with a four-digit year, as RFC 3339 writes";

/**
 * An ISO 8601 date-time with a zone (`2026-03-01T02:00:00Z`, `...+01:00`) whose UTC instant
 * falls from 0000-01-01 to `latest` (by default the end of 9999): `9999-12-31T23:59:59-23:59`
 * is a valid date-time, but in UTC it is in the year 10000. `reason` says why `latest` is where
 * it is. A string that is no date-time at all gets the format's message alone.
 */
export function instantSchema(
  latest = LATEST_INSTANT_MS,
  reason = FOUR_DIGITS,
  formatMessage?: (input: unknown) => string | undefined,
) {
  const message = `must fall from ${iso(EARLIEST_INSTANT_MS)} to ${iso(latest)} in UTC: ${reason}`;
  const format = formatMessage && { error: (issue: { input?: unknown }) => formatMessage(issue.input) };
  return z.iso.datetime({ offset: true, ...format }).refine(
    (text) => {
      const ms = Date.parse(text);
      return Number.isNaN(ms) || isInstantWithin(ms, EARLIEST_INSTANT_MS, latest);
    },
    { message },
  );
}

/**
 * A window's `from` or `to` in a query string: an instant (instantSchema) whose fraction of a
 * second has at most 9 digits, nanoseconds, the finest any clock writes. Times are read to the
 * millisecond, so more digits are no finer a time, only a longer string (5,000 were taken).
 */
export function queryInstantSchema() {
  return instantSchema(LATEST_INSTANT_MS, FOUR_DIGITS, plusReadAsSpace).refine((text) => !/\.\d{10}/.test(text), {
    message: "must give a fraction of a second in at most 9 digits",
    // A string that is no date-time at all gets the format's message alone.
    when: (payload) => payload.issues.length === 0,
  });
}

/** A date-time with a space where its offset's sign goes: `2026-03-01T09:30:00 01:00`. */
const SPACE_FOR_PLUS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)? (\d{2}:\d{2})$/;

/**
 * What a query's time that is no date-time is told when it is one whose offset's `+` became a
 * space: in a query string (application/x-www-form-urlencoded) `+` is a space, so
 * `?from=2026-03-01T09:30:00+01:00`, as curl sends it, arrives so, and "must be a date and time
 * with a zone" did not say what went wrong. Undefined (the usual message) for anything else.
 */
function plusReadAsSpace(input: unknown): string | undefined {
  const m = typeof input === "string" ? SPACE_FOR_PLUS.exec(input) : null;
  if (!m) return undefined;
  return `must be an ISO 8601 date and time with a zone; a space stands where its offset's sign goes: in a query string "+" is read as a space, so write the offset "+${m[1]}" as "%2B${m[1]}"`;
}
