// A row of a state timeline worked out for drawing: its segments over a window, as stretches a
// pixel wide or more. Pure, no I/O; svg.ts draws them.

/** Epoch milliseconds, or an ISO 8601 date-time. */
export type Time = number | string;

export interface StateSegment {
  state: string;
  from: Time;
  to: Time;
}

export const ms = (t: Time): number => (typeof t === "number" ? t : Date.parse(t));

/** The narrowest a pixel column of short segments is drawn. */
const MIN_COLUMN_W = 0.5;
/**
 * The narrowest a pixel column holding a state other than REST_STATE is drawn: a brief wake of
 * an object dormant for weeks (a minute in a pixel of hours) shows.
 */
const MIN_WAKE_W = 1;
const REST_STATE = "dormant";

/**
 * A stretch of a row's band: one segment, or the segments narrower than a pixel in one pixel
 * column, with the time each state held there (`time`, in the order states stack).
 */
export interface Band {
  x: number;
  w: number;
  from: number;
  to: number;
  spans: number;
  time: [state: string, ms: number][];
  /** Set on a pixel column's stack of short segments. */
  column?: true;
}

/**
 * The stretches of a row's band over [from, to]. A segment a pixel wide or more is one stretch;
 * the segments narrower than a pixel that fall in one pixel column are one stretch too, which
 * is drawn as a stack of its states a pixel wide at the column, each as tall as its share of the
 * column's time. A long window of many short states (60 days of a trickle) would otherwise draw
 * hundreds of thousands of rects a row, each with its tooltip: a page of 150 MB.
 */
export function bands(
  segments: StateSegment[],
  from: number,
  to: number,
  x: (t: number) => number,
  rank: (state: string) => number,
): Band[] {
  const out: Band[] = [];
  let column: { at: number; band: Band; time: Map<string, number> } | null = null;
  const flush = () => {
    if (!column) return;
    column.band.time = [...column.time].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1));
    out.push(column.band);
    column = null;
  };
  for (const s of segments) {
    const a = ms(s.from);
    const b = ms(s.to);
    if (!(b > a) || b <= from || a >= to) continue;
    const x1 = x(a);
    const w = x(b) - x1;
    if (w >= 1) {
      flush();
      // A dormant stretch begins where a column before it ends: drawn from its own start, it
      // covered the rest of that column, and a brief wake drawn there did not show.
      const before = out.at(-1);
      const start = before?.column && s.state === REST_STATE ? Math.max(x1, before.x + before.w) : x1;
      out.push({ x: start, w: x1 + w - start, from: a, to: b, spans: 1, time: [[s.state, b - a]] });
      continue;
    }
    const at = Math.floor(x1);
    if (column && column.at !== at) flush();
    // The column's pixel, less what a stretch before it drew there, but never under half a
    // pixel wide (it may then reach into the next one, whose column begins where it ends).
    const left = Math.min(Math.max(at, out.length > 0 ? out.at(-1)!.x + out.at(-1)!.w : at), x1);
    const width = Math.max(at + 1 - left, MIN_COLUMN_W);
    column ??= { at, band: { x: left, w: width, from: a, to: b, spans: 0, time: [], column: true }, time: new Map() };
    if (s.state !== REST_STATE) column.band.w = Math.max(column.band.w, MIN_WAKE_W);
    column.band.to = b;
    column.band.spans++;
    column.time.set(s.state, (column.time.get(s.state) ?? 0) + (Math.min(b, to) - Math.max(a, from)));
  }
  flush();
  return out;
}

/** A share as a whole percentage, or "<1%" for a share that would round to none. */
export function percent(share: number): string {
  const p = Math.round(share * 100);
  return p === 0 && share > 0 ? "<1%" : `${p}%`;
}
