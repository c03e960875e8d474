// Decision and action ids begin with the time they were minted at (governor/ids.ts mints them:
// a prefix, nine base-36 digits of milliseconds, a counter, randomness), so ids sort by time
// and a time is a cursor among them.

/** The time an id was minted at, or null for an id not of that form. */
export function idTime(id: string): number | null {
  const m = /^(?:dec|act)_([0-9a-z]{9})/.exec(id);
  return m ? parseInt(m[1]!, 36) : null;
}

/** The least id of this kind minted at `ms` or later: every one minted before sorts before it. */
const idAt =
  (prefix: "dec" | "act") =>
  (ms: number): string =>
    `${prefix}_${Math.max(0, ms).toString(36).padStart(9, "0")}`;

/** The least decision id minted at `ms` or later. */
export const decisionIdAt = idAt("dec");

/** The least action id minted at `ms` or later. */
export const actionIdAt = idAt("act");
