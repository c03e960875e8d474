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
export function instantSchema(latest = LATEST_INSTANT_MS, reason = FOUR_DIGITS) {
  const message = `must fall from ${iso(EARLIEST_INSTANT_MS)} to ${iso(latest)} in UTC: ${reason}`;
  return z.iso.datetime({ offset: true }).refine(
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
  return instantSchema().refine((text) => !/\.\d{10}/.test(text), {
    message: "must give a fraction of a second in at most 9 digits",
    // A string that is no date-time at all gets the format's message alone.
    when: (payload) => payload.issues.length === 0,
  });
}
