// The times Vigil takes from outside and writes back: those RFC 3339 can write, whose year has
// four digits. A Date reaches much further (±275,760 years), and toISOString writes a year past
// 9999 or before 0000 with a sign and six digits (`+010000-01-01T...`), which is no RFC 3339
// time: a reply holding one breaks its own schema. Inputs are held to this range instead.

/** 0000-01-01T00:00:00.000Z, the first instant with a four-digit year. */
export const EARLIEST_INSTANT_MS = -62_167_219_200_000;

/** 9999-12-31T23:59:59.999Z, the last instant with a four-digit year. */
export const LATEST_INSTANT_MS = 253_402_300_799_999;

/** Whether `ms` (epoch milliseconds) is at or after `from` and at or before `to` (all of 0000 to 9999 by default). */
export function isInstantWithin(ms: number, from = EARLIEST_INSTANT_MS, to = LATEST_INSTANT_MS): boolean {
  return ms >= from && ms <= to;
}
