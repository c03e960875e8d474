// Pictures of governed objects as SVG text: state timelines (a band per object, one colour per
// state, over a time axis) and a histogram of how long facts waited. Pure functions of plain
// data, no I/O: `vigil simulate --report` draws a simulation with them and the server's
// dashboard draws a live object's timeline with the same code. Every piece of text is escaped,
// and every picture is accessible (`role="img"`, `aria-label`, a `<title>`).
//
// The file is past 400 lines because the two pictures share their frame, legend, colours and
// escaping, and the time axis (its steps, and the calendar months of long spans) is the timelines'.

import { bands, ms, percent, type Band, type StateSegment, type Time } from "./bands.ts";

export type { StateSegment, Time };

/** A moment to point at on a row (a fact's arrival), with what to say about it. */
export interface TimelineMark {
  at: Time;
  label: string;
}

export interface TimelineRow {
  objectId: string;
  segments: StateSegment[];
  marks?: TimelineMark[];
}

export interface TimelineOptions {
  from: Time;
  to: Time;
  title: string;
  /** Pixels (default 960). */
  width?: number;
}

export interface WaitSeries {
  name: string;
  /** Milliseconds each fact waited, of those served (their object was active again). */
  waits: number[];
  /** Facts still waiting at the end: not in the bars, counted in the legend (default 0). */
  unserved?: number;
}

export interface HistogramOptions {
  title: string;
  width?: number;
}

/** One colour per lifecycle state; a state not listed gets one of OTHER_COLOURS. */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  active: "#16a34a",
  waking: "#f59e0b",
  sleeping: "#6366f1",
  dormant: "#cbd5e1",
  failed: "#dc2626",
};
const OTHER_COLOURS = ["#0ea5e9", "#a855f7", "#84cc16", "#f43f5e"];
const SERIES_COLOURS = ["#2563eb", "#db2777", "#0d9488", "#ea580c", "#7c3aed", "#65a30d"];

/**
 * The colour of the histogram's series `k`: SERIES_COLOURS, then hues a golden angle apart. Taken
 * round again, the seventh row of a `vigil simulate --compare` of seven had the first one's
 * colour, and neither bars nor legend told them apart.
 */
export function seriesColour(k: number): string {
  if (k < SERIES_COLOURS.length) return SERIES_COLOURS[k]!;
  const hue = ((k - SERIES_COLOURS.length) * 137.508 + 15) % 360;
  return hslHex(hue, 0.7, k % 2 === 0 ? 0.38 : 0.52);
}

/** A colour from hue (degrees), saturation and lightness (0-1) as `#rrggbb`, which every SVG reader takes. */
function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

const FONT = 'font-family="system-ui, sans-serif" font-size="11"';
const LABEL_W = 160;
const RIGHT = 16;
const TOP = 34;
const ROW_H = 16;
const ROW_GAP = 10;
/** The order a pixel column's states stack in: the known ones first, as STATE_COLOURS lists them. */
const STACK_ORDER = Object.keys(STATE_COLOURS);
const stackRank = (state: string) => {
  const i = STACK_ORDER.indexOf(state);
  return i < 0 ? STACK_ORDER.length : i;
};

/** Marks drawn on one row at most: past that, an even sample of them (ticks would only blacken the band). */
export const MAX_MARKS_PER_ROW = 500;

/** Text safe inside an element or an attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

const num = (n: number) => String(Math.round(n * 10) / 10);

function stateColour(state: string, others: Map<string, string>): string {
  const known = STATE_COLOURS[state];
  if (known) return known;
  if (!others.has(state)) others.set(state, OTHER_COLOURS[others.size % OTHER_COLOURS.length]!);
  return others.get(state)!;
}

/**
 * A generous guess of `text`'s width in pixels at `size` px (bold a tenth wider), from the widths
 * of DejaVu Sans, the widest of the usual system-ui fonts, rounded up: the picture has no font
 * metrics at hand, and a label may not be wider than its place.
 */
function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const c of text)
    em += /[mwMW@%]/.test(c) ? 1 : /[A-Z]/.test(c) ? 0.8 : /[fijlrtI.,:;'!| -]/.test(c) ? 0.42 : c > "~" ? 1 : 0.64;
  return em * size * (bold ? 1.1 : 1);
}

/** `text`, cut short with an ellipsis where it would be wider than `px` (textWidth's guess). */
export function fitText(text: string, px: number, size: number, bold = false): string {
  if (textWidth(text, size, bold) <= px) return text;
  const chars = [...text];
  let n = chars.length;
  while (n > 1 && textWidth(`${chars.slice(0, n).join("")}…`, size, bold) > px) n--;
  return `${chars.slice(0, n).join("")}…`;
}

/** `<svg>` with its accessible name; `body` is already escaped. */
function svg(width: number, height: number, title: string, label: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(label)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" font-family="system-ui, sans-serif" font-size="14" font-weight="600">${escapeXml(fitText(title, width - 16, 14, true))}</text>`,
    ...body,
    "</svg>",
  ].join("\n");
}

/** A span of milliseconds in words: `2 s`, `4 min 12 s`, `3 h 2 min`. */
export function spanText(span: number): string {
  if (span / 1000 < 60) return `${Number((span / 1000).toFixed(1))} s`;
  // Whole seconds first, so that 119.6 s is `2 min`, not `1 min 60 s`.
  const s = Math.round(span / 1000);
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m && !d) parts.push(`${m} min`);
  if (sec && !d && !h) parts.push(`${sec} s`);
  return parts.join(" ");
}

const TICK_STEPS = [1, 2, 5, 10, 15, 30]
  .map((s) => s * 1000)
  .concat(
    [1, 2, 5, 10, 15, 30].map((m) => m * 60_000),
    [1, 2, 3, 6, 12].map((h) => h * 3_600_000),
    [1, 2, 7, 14].map((d) => d * 86_400_000),
  );

const DAY = 86_400_000;

/** Months a step for a span past the steps above: 1, 2, 3 or 6, or 1, 2, 5, 10... years (at their shortest). */
function monthStep(span: number): number {
  for (const m of [1, 2, 3, 6]) if (span / (m * 28 * DAY) <= 8) return m;
  let years = 1;
  for (let i = 0; span / (years * 365 * DAY) > 8; i++) years *= i % 3 === 1 ? 2.5 : 2;
  return years * 12;
}

/** The start of the `k`th month since January of the year 0, UTC. */
function monthStart(k: number): number {
  const d = new Date(0);
  d.setUTCFullYear(Math.floor(k / 12), k - Math.floor(k / 12) * 12, 1);
  return d.getTime();
}

/** The first Monday of the epoch, 1970-01-05 (the epoch was a Thursday): where week steps are counted from. */
const MONDAY = 4 * DAY;

/**
 * Ticks for an axis over [from, to]: round UTC times, at most about eight, however long the span;
 * steps of one or two weeks on Mondays; past two weeks a step, the first of a month (of January,
 * for a step of years). A label names the year when the span crosses one (`2026-12-28`, not
 * `12-28` beside `01-04`; under a day's step, at midnight, in a window of any length:
 * `2026-12-31 | 06:00 | ...`, `23:00 | 2027-01-01 | 01:00`).
 */
export function timeTicks(from: number, to: number): { at: number; label: string }[] {
  const span = Math.max(1, to - from);
  const step = TICK_STEPS.find((s) => span / s <= 8);
  const iso = (t: number) => new Date(t).toISOString();
  const out: { at: number; label: string }[] = [];
  if (step === undefined) {
    const months = monthStep(span);
    const first = new Date(from);
    const k0 = Math.ceil((first.getUTCFullYear() * 12 + first.getUTCMonth()) / months) * months;
    for (let k = k0, t = monthStart(k); t <= to; k += months, t = monthStart(k))
      if (t >= from) out.push({ at: t, label: iso(t).slice(0, 10) });
    return out;
  }
  // Dates from the month on, or from the year when the span crosses one; then, under a day's
  // step across a new year, the whole date at midnight and the time at the other ticks, as
  // "2026-12-31 12:00" would run into its neighbours. A window of a day or less names the year
  // too ("23:00 | 2027-01-01 | 01:00"): its times alone ("23:00 | 00:00 | 01:00") said no date.
  // (Every step under a day divides one, so the new year's midnight is a tick.)
  const newYear = iso(from).slice(0, 4) !== iso(to).slice(0, 4);
  const label = (t: number) =>
    step < DAY && newYear && t % DAY === 0
      ? iso(t).slice(0, 10)
      : step < 60_000
        ? iso(t).slice(11, 19)
        : step >= DAY
          ? iso(t).slice(newYear ? 0 : 5, 10)
          : span > 86_400_000 && !newYear
            ? `${iso(t).slice(5, 10)} ${iso(t).slice(11, 16)}`
            : iso(t).slice(11, 16);
  const origin = step >= 7 * DAY ? MONDAY : 0;
  for (let t = Math.ceil((from - origin) / step) * step + origin; t <= to; t += step)
    out.push({ at: t, label: label(t) });
  return out;
}

/**
 * A stretch as SVG: one rect with its tooltip, or a pixel column's stack, a rect a state, in a
 * group that carries the tooltip once.
 */
function bandSvg(band: Band, objectId: string, y: number, others: Map<string, string>): string {
  const when = `${new Date(band.from).toISOString()} to ${new Date(band.to).toISOString()} (${spanText(band.to - band.from)})`;
  const total = band.time.reduce((sum, [, t]) => sum + t, 0) || 1;
  const what =
    band.spans === 1
      ? band.time[0]![0]
      : `${band.spans} spans, ${band.time.map(([state, t]) => `${percent(t / total)} ${state}`).join(", ")},`;
  const title = `<title>${escapeXml(`${objectId}: ${what} ${when}`)}</title>`;
  const rects: string[] = [];
  let top = 0;
  for (const [state, t] of band.time) {
    const h = (ROW_H * t) / total;
    if (num(h) === "0") continue;
    rects.push(
      `<rect x="${num(band.x)}" y="${num(y + top)}" width="${num(band.w)}" height="${num(h)}" fill="${stateColour(state, others)}"`,
    );
    top += h;
  }
  return rects.length === 1 ? `${rects[0]}>${title}</rect>` : `<g>${title}${rects.join("/>")}/></g>`;
}

/**
 * State timelines: one band per row over [from, to], a colour per state, with the row's marks
 * as ticks under its band, a time axis (UTC) and a legend of the states drawn.
 */
export function renderTimelines(rows: TimelineRow[], o: TimelineOptions): string {
  const width = o.width ?? 960;
  const from = ms(o.from);
  // The scale spans 1 ms at least (an empty window, from = to, would divide by zero); the label
  // says the window as it is.
  const end = Math.max(ms(o.to), from);
  const to = Math.max(end, from + 1);
  const plotW = width - LABEL_W - RIGHT;
  const x = (t: number) => LABEL_W + (Math.min(Math.max(t, from), to) - from) * (plotW / (to - from));
  const others = new Map<string, string>();
  const seen = new Set<string>();
  const body: string[] = [];
  rows.forEach((row, i) => {
    const y = TOP + i * (ROW_H + ROW_GAP);
    const id = fitText(row.objectId, LABEL_W - 16, 11);
    body.push(
      `<text x="${LABEL_W - 8}" y="${y + 12}" text-anchor="end" ${FONT}><title>${escapeXml(row.objectId)}</title>${escapeXml(id)}</text>`,
    );
    for (const band of bands(row.segments, from, to, x, stackRank)) {
      for (const [state] of band.time) seen.add(state);
      body.push(bandSvg(band, row.objectId, y, others));
    }
    for (const m of evenSample(row.marks ?? [], MAX_MARKS_PER_ROW)) {
      const at = ms(m.at);
      if (at < from || at > to) continue;
      body.push(
        `<line x1="${num(x(at))}" x2="${num(x(at))}" y1="${y + ROW_H}" y2="${y + ROW_H + 5}" stroke="#111827" stroke-width="1"><title>${escapeXml(m.label)}</title></line>`,
      );
    }
  });
  if (rows.length === 0) body.push(`<text x="${LABEL_W}" y="${TOP + 12}" ${FONT}>no objects</text>`);
  const axisY = TOP + Math.max(rows.length, 1) * (ROW_H + ROW_GAP);
  body.push(axis(from, to, x, axisY, width));
  const states = [...Object.keys(STATE_COLOURS), ...others.keys()].filter((s) => seen.has(s));
  const key = legend(
    states.map((s) => [s, stateColour(s, others)]),
    LABEL_W,
    axisY + 36,
    width,
  );
  body.push(key.svg);
  const height = key.bottom + 8;
  const label = `${o.title}: state timelines of ${rows.length} object${rows.length === 1 ? "" : "s"} from ${new Date(from).toISOString()} to ${new Date(end).toISOString()}`;
  return svg(width, height, o.title, label, body);
}

/**
 * The axis, a tick per timeTicks, each labelled unless its label would run into its neighbour's
 * (textWidth's guess, and a gap). The first, anchored at its start to keep clear of "UTC", ran
 * into a second centred on its tick ("08-23 12:00" over "08-24 00:00"): the label at an edge
 * (anchored at its start or end) gives way to the one beside it, its tick staying unlabelled.
 */
function axis(from: number, to: number, x: (t: number) => number, y: number, width: number): string {
  const parts = [`<line x1="${LABEL_W}" x2="${width - RIGHT}" y1="${y}" y2="${y}" stroke="#6b7280"/>`];
  const labels: { left: number; right: number; side: string; svg: string }[] = [];
  for (const t of timeTicks(from, to)) {
    const at = x(t.at);
    const side = anchor(at, width);
    const w = textWidth(t.label, 11);
    const left = side === "start" ? at : side === "end" ? at - w : at - w / 2;
    parts.push(`<line x1="${num(at)}" x2="${num(at)}" y1="${y}" y2="${y + 4}" stroke="#6b7280"/>`);
    const label = {
      left,
      right: left + w,
      side,
      svg: `<text x="${num(at)}" y="${y + 16}" text-anchor="${side}" ${FONT} fill="#374151">${escapeXml(t.label)}</text>`,
    };
    const before = labels.at(-1);
    if (before === undefined || left >= before.right + LABEL_GAP) labels.push(label);
    else if (before.side === "start") labels[labels.length - 1] = label;
  }
  parts.push(...labels.map((l) => l.svg));
  parts.push(`<text x="${LABEL_W - 8}" y="${y + 16}" text-anchor="end" ${FONT} fill="#374151">UTC</text>`);
  return parts.join("\n");
}

/** Pixels at least between two tick labels. */
const LABEL_GAP = 4;

/** A tick label's anchor: inside the picture at its right, clear of "UTC" at its left (not "UTC09:00"). */
const anchor = (x: number, width: number) => (x > width - RIGHT - 30 ? "end" : x < LABEL_W + 30 ? "start" : "middle");

/** At most `max` of `items`, evenly spread over them. */
function evenSample<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  const stride = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * stride)]!);
}

/** Swatches and names from (x0, y), wrapping before `width`; `bottom` is below the last line. */
function legend(entries: [name: string, colour: string][], x0: number, y: number, width: number) {
  let x = x0;
  const parts: string[] = [];
  for (const [name, colour] of entries) {
    const w = 24 + name.length * 6.5;
    if (x > x0 && x + w > width - RIGHT) {
      x = x0;
      y += 18;
    }
    parts.push(
      `<rect x="${num(x)}" y="${y - 10}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${num(x + 16)}" y="${y}" ${FONT}>${escapeXml(name)}</text>`,
    );
    x += w;
  }
  return { svg: parts.join("\n"), bottom: y + 4 };
}

/** Bins of waits: (lo, hi] in ms, the first from 0. */
export const WAIT_BINS: { hi: number; label: string }[] = [
  { hi: 100, label: "≤0.1s" },
  { hi: 500, label: "0.1–0.5s" },
  { hi: 1000, label: "0.5–1s" },
  { hi: 2000, label: "1–2s" },
  { hi: 5000, label: "2–5s" },
  { hi: 10_000, label: "5–10s" },
  { hi: 30_000, label: "10–30s" },
  { hi: 60_000, label: "30s–1m" },
  { hi: 300_000, label: "1–5m" },
  { hi: 900_000, label: "5–15m" },
  { hi: 3_600_000, label: "15m–1h" },
  { hi: 21_600_000, label: "1–6h" },
  { hi: Infinity, label: ">6h" },
];

/** `no waits`, `1 wait`, `2 waits` (`1 served wait`). */
const waitsWord = (n: number, kind = "") => `${n === 0 ? "no" : n} ${kind}wait${n === 1 ? "" : "s"}`;

/** How many of `waits` fall in each of WAIT_BINS. */
export function binWaits(waits: readonly number[]): number[] {
  const counts = WAIT_BINS.map(() => 0);
  for (const w of waits) counts[WAIT_BINS.findIndex((b) => w <= b.hi)]!++;
  return counts;
}

/**
 * A histogram of waits, one bar colour per series, each bar the share of its series' waits in
 * that bin (so that series of different sizes compare), over the bins up to the last that any
 * series fills (six at least).
 */
export function renderWaitHistogram(series: WaitSeries[], o: HistogramOptions): string {
  const width = o.width ?? 960;
  const plotH = 160;
  const plotTop = TOP + 8;
  const left = 56;
  const plotW = width - left - RIGHT;
  const counts = series.map((s) => binWaits(s.waits));
  // Up to the last bin any series fills, and six bins at least, for a scale to read.
  const filled = WAIT_BINS.map((_, i) => counts.some((c) => c[i]! > 0));
  const bins = WAIT_BINS.slice(0, Math.max(filled.lastIndexOf(true), 5) + 1);
  const shares = counts.map((c, k) => c.map((n) => (series[k]!.waits.length > 0 ? n / series[k]!.waits.length : 0)));
  const top = Math.max(0.1, Math.ceil(Math.max(0, ...shares.flat()) * 10) / 10);
  const y = (share: number) => plotTop + plotH - (share / top) * plotH;
  const group = plotW / bins.length;
  const barW = Math.min(40, (group * 0.8) / Math.max(1, series.length));
  const inset = (group - barW * series.length) / 2;
  const body: string[] = [];
  for (let g = 0; g <= 4; g++) {
    const share = (top * g) / 4;
    body.push(
      `<line x1="${left}" x2="${width - RIGHT}" y1="${num(y(share))}" y2="${num(y(share))}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${num(y(share) + 4)}" text-anchor="end" ${FONT} fill="#374151">${Math.round(share * 100)}%</text>`,
    );
  }
  bins.forEach((bin, b) => {
    const gx = left + b * group;
    series.forEach((s, k) => {
      const share = shares[k]![b]!;
      if (share === 0) return;
      const n = counts[k]![b]!;
      const text = `${s.name}: ${n} of ${waitsWord(s.waits.length)} (${(share * 100).toFixed(1)}%) in ${bin.label}`;
      body.push(
        `<rect x="${num(gx + inset + k * barW)}" y="${num(y(share))}" width="${num(barW)}" height="${num(plotTop + plotH - y(share))}" fill="${seriesColour(k)}"><title>${escapeXml(text)}</title></rect>`,
      );
    });
    body.push(
      `<text x="${num(gx + group / 2)}" y="${plotTop + plotH + 16}" text-anchor="middle" ${FONT} fill="#374151">${escapeXml(bin.label)}</text>`,
    );
  });
  body.push(
    `<line x1="${left}" x2="${width - RIGHT}" y1="${plotTop + plotH}" y2="${plotTop + plotH}" stroke="#6b7280"/>`,
  );
  // A row whose facts all waited unserved has no bar: its legend says so, not "no waits".
  const counted = (s: WaitSeries) =>
    s.unserved ? `${waitsWord(s.waits.length, "served ")}, ${s.unserved} unserved` : waitsWord(s.waits.length);
  const names = series.map((s, k): [string, string] => [`${s.name} (${counted(s)})`, seriesColour(k)]);
  const key = legend(names, left, plotTop + plotH + 40, width);
  body.push(key.svg);
  const each = (s: WaitSeries) => `${s.name} ${s.waits.length}${s.unserved ? ` (${s.unserved} unserved)` : ""}`;
  const label = `${o.title}: histogram of waits, ${series.map(each).join(", ")}`;
  return svg(width, key.bottom + 8, o.title, label, body);
}

/** Several pictures one under the other, as one SVG (what `--report FILE.svg` writes). */
export function stackSvgs(parts: string[], title: string): string {
  let y = 0;
  let width = 0;
  const body: string[] = [];
  for (const part of parts) {
    const size = /^<svg[^>]*\bwidth="(\d+)" height="(\d+)"/.exec(part);
    const w = Number(size?.[1] ?? 960);
    const h = Number(size?.[2] ?? 0);
    body.push(part.replace(/^<svg /, `<svg x="0" y="${y}" `));
    y += h + 12;
    width = Math.max(width, w);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.max(0, y - 12)}" viewBox="0 0 ${width} ${Math.max(0, y - 12)}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    ...body,
    "</svg>",
  ].join("\n");
}
