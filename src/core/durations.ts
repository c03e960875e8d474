// ISO 8601 durations (`PT5M`, `P1DT2H`, `PT0.5S`) to milliseconds.
// Years and months are refused: their length depends on the calendar, and a governance
// timer that means "about a month" should say `P30D`.

/** The grammar as a pattern for JSON Schema (the parser below is the authority). */
export const DURATION_PATTERN =
  /^P(?!$)(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$/;

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

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
  return Math.round(ms);
}

/** Like {@link parseDuration} but throws with the offending text. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`not an ISO 8601 duration: ${JSON.stringify(text)}`);
  return ms;
}

export const DURATION_HELP =
  "an ISO 8601 duration such as PT30S, PT5M, PT2H or P1DT12H (weeks, days, hours, minutes, seconds; no years or months)";
