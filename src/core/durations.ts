// ISO 8601 durations (`PT5M`, `P1DT2H`, `PT0.5S`) to milliseconds.
// Years and months are refused: their length depends on the calendar, and a governance
// timer that means "about a month" should say `P30D`.

/** The grammar as a pattern for JSON Schema (the parser below is the authority). */
export const DURATION_PATTERN =
  /^P(?!$)(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$/;

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * The longest duration Vigil accepts: 100 years (36,500 days). Longer ones cannot be added to
 * a timestamp and still name a date, and no governance timer needs them.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000] as const;

/** Parses an ISO 8601 duration; returns `null` when it is not one Vigil accepts. */
export function parseDuration(text: string): number | null {
  if (typeof text !== "string" || text === "P" || text.endsWith("T")) return null;
  const m = DURATION.exec(text);
  if (!m) return null;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  return ms > MAX_DURATION_MS ? null : Math.round(ms);
}

/** Like {@link parseDuration} but throws with the offending text. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`not an ISO 8601 duration: ${JSON.stringify(text)}`);
  return ms;
}

export const DURATION_HELP =
  "an ISO 8601 duration such as PT30S, PT5M, PT2H or P1DT12H (weeks, days, hours, minutes, seconds; no years or months; at most 100 years)";
