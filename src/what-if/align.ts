// Lines a replay's decisions up with the recorded ones as both stream in, oldest first.
//
// A `create` decision matches `create`, a facts decision the one of the same memory version,
// a substrate decision the one of the same name and time. A timer firing matches the
// replay's firing of the same name when that came within LATE_AFTER_MS after it (a real server
// fires a little late, the virtual clock never does), or within LAG_STEP_MS of the lag the two
// had at their last match (the lateness of a timer set from its own firing adds up), or, for a
// firing marked late (after downtime), the replay's earliest unmatched firing of that name
// before it. A row differs when only one side has it, or the outcomes, the resulting states or
// the rules fired differ.
//
// Memory stays bounded: what finds no match within WINDOW_MS behind both streams is given up
// as a difference (so a late firing looks back that far at most), and of the differences only
// the earliest are kept, at most `maxRows` of them and `maxBytes` of JSON (all are counted). A
// row lists every rule each side fired: a candidate of 2,000 rules that all fire makes rows of
// 135 KB, and 1,000 of them were a 138 MB reply. Each row is weighed as it is kept, so the
// rows held never pass the bound (but for the first, however large).

import { LATE_AFTER_MS } from "../core/timers.ts";
import type { Decision, Trigger } from "../core/types.ts";

export interface ReplaySide {
  decisionId?: string;
  outcome: string;
  toState: string;
  fired: string[];
}

export interface ReplayRow {
  key: string;
  at: string;
  trigger: Trigger;
  actual: ReplaySide | null;
  candidate: ReplaySide | null;
}

/** How far behind both streams a decision may wait for its match (well over LATE_AFTER_MS). */
export const WINDOW_MS = 60_000;

/**
 * How much later than at its last match a recorded firing may come and still match (its lag
 * may grow by this much each time): a real server's timers fire milliseconds late, and a
 * candidate that moves a timer by more shows as a difference once it adds up past LATE_AFTER_MS.
 */
const LAG_STEP_MS = 250;

/** What alignment keeps of a decision. */
interface Entry {
  key: string;
  at: number;
  trigger: Trigger;
  side: ReplaySide;
}

export function keyOf(d: Pick<Decision, "trigger" | "memoryVersion" | "at">): string {
  const t = d.trigger;
  if (t.kind === "create") return "create";
  if (t.kind === "facts") return `facts#${d.memoryVersion}`;
  return `${t.kind}:${t.name ?? ""}@${new Date(d.at).toISOString()}`;
}

const entryOf = (d: Decision, recorded: boolean): Entry => ({
  key: keyOf(d),
  at: d.at,
  trigger: d.trigger,
  side: {
    ...(recorded ? { decisionId: d.id } : {}),
    outcome: d.outcome,
    toState: d.toState,
    fired: d.fired.map((f) => f.rule).sort(),
  },
});

const same = (a: Entry | null, c: Entry | null) =>
  a !== null &&
  c !== null &&
  a.side.outcome === c.side.outcome &&
  a.side.toState === c.side.toState &&
  a.side.fired.join("\u0000") === c.side.fired.join("\u0000");

const isTimer = (e: Entry) => e.trigger.kind === "timer";

/** Earlier first: by time, then key. */
const before = (x: { at: number; key: string }, y: { at: number; key: string }) =>
  x.at - y.at || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);

/** A differing row kept, with its place in time and the bytes of its JSON in a list. */
interface Kept {
  at: number;
  key: string;
  row: ReplayRow;
  bytes: number;
}

export class Aligner {
  /** Recorded decisions and replayed ones, fed so far. */
  actualCount = 0;
  candidateCount = 0;
  /** Rows that differ, kept or not. */
  differenceCount = 0;
  /** The earliest differing rows, at most maxRows and maxBytes (but one), in order. */
  private readonly kept: Kept[] = [];
  /** The bytes of JSON the kept rows make as a list. */
  private keptBytes = 0;
  /**
   * The earliest row left out, if any: every row after it is left out too, so that the rows
   * kept are the earliest of all (a row that did not fit stays out when later ones are smaller).
   */
  private leftOut: { at: number; key: string } | null = null;
  private readonly actualByKey = new Map<string, Entry>();
  private readonly candidateByKey = new Map<string, Entry>();
  /** Recorded timer firings whose window (up to LATE_AFTER_MS after them) is still open. */
  private readonly waiting: Entry[] = [];
  /** Replayed timer firings not matched yet, in the order they fired. */
  private readonly open: Entry[] = [];
  /**
   * Per timer name, how much later the recorded firing came than the replayed one at their last
   * match. A timer set from its own firing (a rolling hold) moves a little later each time on a
   * real server and never on the virtual clock: the gap grows past LATE_AFTER_MS in a few hours.
   */
  private readonly lag = new Map<string, number>();

  constructor(
    private readonly maxRows: number,
    /** The most bytes of JSON the kept rows make as a list; the first row is kept whatever its size. */
    private readonly maxBytes: number = Infinity,
  ) {}

  actual(d: Decision): void {
    this.actualCount++;
    const a = entryOf(d, true);
    if (isTimer(a)) {
      let i = this.waiting.length;
      while (i > 0 && this.waiting[i - 1]!.at > a.at) i--;
      this.waiting.splice(i, 0, a);
      return;
    }
    const c = this.candidateByKey.get(a.key);
    if (c) {
      this.candidateByKey.delete(a.key);
      this.emit(a, c);
      return;
    }
    const twin = this.actualByKey.get(a.key);
    if (twin) this.emit(twin, null);
    this.actualByKey.set(a.key, a);
  }

  candidate(d: Decision): void {
    this.candidateCount++;
    const c = entryOf(d, false);
    if (isTimer(c)) {
      this.open.push(c);
      return;
    }
    const a = this.actualByKey.get(c.key);
    if (a) {
      this.actualByKey.delete(c.key);
      this.emit(a, c);
      return;
    }
    const twin = this.candidateByKey.get(c.key);
    if (twin) this.emit(null, twin);
    this.candidateByKey.set(c.key, c);
  }

  /**
   * The replay has made every decision up to `replayed` (its clock) and the recorded ones up
   * to `recorded` have been fed: matches the recorded timer firings whose window has closed,
   * and gives up on what has waited longer than WINDOW_MS.
   */
  advance(replayed: number, recorded: number): void {
    this.matchTimers(replayed);
    const cutoff = Math.min(replayed, recorded) - WINDOW_MS;
    // Both maps and `open` fill in time order: the old entries are at the front.
    for (const [key, a] of this.actualByKey) {
      if (a.at >= cutoff) break;
      this.actualByKey.delete(key);
      this.emit(a, null);
    }
    for (const [key, c] of this.candidateByKey) {
      if (c.at >= cutoff) break;
      this.candidateByKey.delete(key);
      this.emit(null, c);
    }
    let stale = 0;
    while (stale < this.open.length && this.open[stale]!.at < cutoff) stale++;
    for (const c of this.open.splice(0, stale)) this.emit(null, c);
  }

  /** Both streams are complete: everything left is a difference. Returns the rows kept. */
  finish(): ReplayRow[] {
    this.advance(Infinity, Infinity);
    return this.kept.map((k) => k.row);
  }

  private matchTimers(replayed: number): void {
    while (this.waiting.length > 0 && this.waiting[0]!.at + LATE_AFTER_MS <= replayed) {
      const a = this.waiting.shift()!;
      const name = a.trigger.name ?? "";
      const lag = this.lag.get(name) ?? 0;
      const i = this.open.findIndex(
        (c) =>
          c.trigger.name === name &&
          ((c.at <= a.at + LATE_AFTER_MS && (a.trigger.late === true || c.at >= a.at - LATE_AFTER_MS)) ||
            Math.abs(a.at - lag - c.at) <= LAG_STEP_MS),
      );
      const c = i >= 0 ? this.open.splice(i, 1)[0]! : null;
      // A firing after downtime starts over: the replay jumped with it.
      if (c && a.trigger.late !== true) this.lag.set(name, a.at - c.at);
      else if (c) this.lag.delete(name);
      this.emit(a, c);
    }
  }

  private emit(a: Entry | null, c: Entry | null): void {
    if (same(a, c)) return;
    this.differenceCount++;
    const any = (a ?? c)!;
    const place = { at: any.at, key: any.key };
    const kept = this.kept;
    if (this.leftOut !== null && before(place, this.leftOut) >= 0) return;
    if (kept.length >= this.maxRows && (kept.length === 0 || before(place, kept[kept.length - 1]!) >= 0)) {
      this.leftOut = place;
      return;
    }
    const row = rowOf(any, a, c);
    // Its JSON and the comma before it; only rows that may be kept are weighed.
    const item = { ...place, row, bytes: Buffer.byteLength(JSON.stringify(row)) + 1 };
    let i = kept.length;
    while (i > 0 && before(item, kept[i - 1]!) < 0) i--;
    kept.splice(i, 0, item);
    this.keptBytes += item.bytes;
    while (kept.length > this.maxRows || (kept.length > 1 && this.keptBytes > this.maxBytes)) {
      const last = kept.pop()!;
      this.keptBytes -= last.bytes;
      this.leftOut = last;
    }
  }
}

const rowOf = (any: Entry, a: Entry | null, c: Entry | null): ReplayRow => ({
  key: any.key,
  at: new Date(any.at).toISOString(),
  trigger: any.trigger,
  actual: a ? a.side : null,
  candidate: c ? c.side : null,
});
