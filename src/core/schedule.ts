// Cron schedules of a policy: the next tick of each, and the timer operations that keep an
// object's cron timers in step with its policy's schedules.

import { CronExpressionParser } from "cron-parser";
import { BoundedMap } from "./bounded-map.ts";
import type { Timer, TimerOp } from "./types.ts";

export interface Schedule {
  name: string;
  cron: string;
  timezone?: string | undefined;
}

/**
 * The first tick strictly after `after` (epoch ms), in the schedule's time zone (UTC by
 * default); null when it has none: every tick of the expression falls at a local time a
 * daylight-saving change skips (02:00 on the first Sunday of October in Australia/Lord_Howe),
 * so it never fires.
 */
export function nextTick(schedule: Schedule, after: number): number | null {
  // Parsing a cron expression and walking its calendar costs tens of microseconds, and a busy
  // server asks for the same schedule's next tick for every new object. The answer computed
  // from `from` holds for every later moment before that tick (computeNextTick makes it so
  // across a spring-forward gap), so the last one is remembered. Finding that there is none
  // takes tens of milliseconds (see ZONE_SEARCH_MS): that answer is kept for a day.
  const key = `${schedule.cron}\u0000${schedule.timezone ?? ""}`;
  const known = lastTicks.get(key);
  if (known && after >= known.from && after < known.until) return known.due;
  const due = computeNextTick(schedule, after);
  // The oldest answer goes first, not all at once: a sent policy's ticks are worked out a turn
  // apart before validation asks for them all (settleSchedules), and requests made meanwhile
  // must not wipe them.
  lastTicks.set(key, { from: after, due, until: due ?? after + NO_TICK_KEPT_MS });
  return due;
}

/**
 * cron-parser moves a tick that falls in a spring-forward gap (02:30 in New York on the change)
 * to just after the jump (03:30) when it walks into the gap from before it, but from inside the
 * jumped hour (03:10) it skips that day. Where the jump ends a day (23:00 on the last Saturday
 * of March in America/Nuuk and America/Scoresbysund) it skips the whole day before it, and in
 * the hour before Lord Howe's half-hour jump it answers 03:00 for a tick at 02:00. So when the
 * zone's offset three hours before `after` is behind its offset at cron-parser's answer, or at
 * `after` itself, a spring change lies between (or just before `after`), and the tick is read in
 * fixed offsets instead (springNext). Every moment before a tick then gets that tick, as the
 * cache above assumes. With no change between, the answer is cron-parser's: one parse and two
 * or three offsets, the common path (and one more for each week an answer is off).
 * Over an autumn change it is cron-parser's too, with the three-hour lookback, unless it is
 * the second pass of a local time with set hours (a daily tick in the repeated hour fires once,
 * the first time, from whatever moment it is asked; an hourly one fires in both, where the clocks
 * go back a whole hour).
 */
function computeNextTick(schedule: Schedule, after: number, depth = 0): number | null {
  const tz = zoneName(schedule.timezone ?? "UTC");
  const due = parsedNext(schedule.cron, tz, after, ZONE_SEARCH_MS);
  // Around a half-hour change (Australia/Lord_Howe) cron-parser can answer a moment that is not
  // after the one asked from (a tick in the past fires again at once, over and over), or throw
  // "loop limit exceeded" for a whole day. Then the tick is found in fixed offsets instead.
  if (!(due > after)) return fixedOffsetNext(schedule.cron, tz, after);
  const before = offsetOf(tz, after - GAP_LOOKBACK_MS);
  const then = offsetOf(tz, due);
  if (before === then) {
    // From inside the jumped hour cron-parser skips the day of the change, and where the
    // schedule's next day after it is past the autumn change (Sundays in March, March 8th), its
    // answer is back in the offset of before the jump: no change shows between the two offsets
    // above, and the day's ticks were lost ("*/15 2 * 3 0" in Berlin went from 03:00 to the
    // next March). The zone's offset at `after` itself tells that the jump has just passed.
    const current = offsetOf(tz, after);
    if (minutesOf(current) > minutesOf(before)) return springNext(schedule.cron, tz, after, after, before);
    // Nor does a spring change ahead show, with an answer past the autumn change after it; and
    // walking into a jump that is not at the hour (Pacific/Chatham's 02:45 to 03:45) cron-parser
    // passes over the day's skipped ticks ("45 2 * 9 0" went to the next September). The offset
    // is read a week at a time up to the answer (no zone changes twice in a week): nothing more
    // for an answer within a week, the common path.
    for (let t = after + WEEK_MS; t < due; t += WEEK_MS) {
      const there = offsetOf(tz, t);
      if (there !== before)
        return minutesOf(there) > minutesOf(before) ? springNext(schedule.cron, tz, after, due, before) : due;
    }
    return due;
  }
  if (minutesOf(then) > minutesOf(before)) return springNext(schedule.cron, tz, after, due, before);
  const early = parsedNext(schedule.cron, tz, after - GAP_LOOKBACK_MS, ZONE_SEARCH_MS);
  let next = early > after && early < due ? early : due;
  // Walking from the first pass of a repeated span that does not begin at the hour
  // (Pacific/Chatham goes back from 03:45 to 02:45), cron-parser passes over the second pass of
  // its minutes before the hour: "59 * * * *" went from 02:59 in the earlier offset to 03:59,
  // never firing at 02:59 in the later one. The first tick read in the later offset, where the
  // zone has that offset then, comes first; the span's rule below decides whether it fires.
  const later = parsedNext(schedule.cron, then, after);
  if (later > after && later < next && offsetOf(tz, later) === then) next = later;
  // cron-parser answers the second pass of a local time that has already been (from inside the
  // repeated hour after its first pass: a late firing, a re-arm; or walking on from the first
  // pass's ticks): a schedule with set hours (a daily 02:30) fires at the first pass only, so
  // the answer is the first tick after the repeated span. A schedule of every hour fires in
  // both passes, each an hour of real time.
  const end = repeatedUntil(tz, next, before, after - GAP_LOOKBACK_MS);
  if (end === null) return next;
  // Where the repeated hour begins at midnight (America/Havana and Atlantic/Azores go back from
  // 01:00 to 00:00), cron-parser walking into it answers the second pass and never the first:
  // a daily 00:30 would skip that day. A first pass still ahead, read in the earlier offset, is
  // the answer then.
  const first = parsedNext(schedule.cron, before, after);
  if (first > after && first < next && offsetOf(tz, first) === before) return first;
  // Where the clocks go back half an hour (Australia/Lord_Howe), a tick of every hour in the
  // repeated half fires once too, as its other ticks do there (read in fixed offsets): its
  // second pass is half an hour after its first, not an hour.
  const wholeHour = (minutesOf(before) - minutesOf(offsetOf(tz, next))) % 60 === 0;
  if ((!everyHour(schedule.cron) || !wholeHour) && depth < 2) return computeNextTick(schedule, end - 1, depth + 1);
  return next;
}

/**
 * When the local time at `t` already was, an autumn change ago (the zone had the earlier,
 * larger offset `earlier`, found at `from`, at the moment showing the same local time): the end
 * of the span whose local times repeat, the change plus the offsets' difference. Null otherwise.
 */
function repeatedUntil(tz: string, t: number, earlier: string, from: number): number | null {
  const shift = (minutesOf(earlier) - minutesOf(offsetOf(tz, t))) * 60_000;
  if (!(shift > 0) || offsetOf(tz, t - shift) !== earlier) return null;
  // The change: the first moment past `from` in the later offset, by halving.
  let lo = from;
  let hi = t;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetOf(tz, mid) === earlier) lo = mid;
    else hi = mid;
  }
  return hi + shift;
}

/** Whether the expression's hour field takes every hour (`*`, `0-23`). */
function everyHour(cron: string): boolean {
  try {
    return CronExpressionParser.parse(cron).fields.hour.values.length === 24;
  } catch {
    return false;
  }
}

/**
 * The next tick after `after` across the first spring change from offset `before` (the zone's
 * three hours before `after`) to the offset after it, `then` (`due`, cron-parser's answer, lies
 * past the change), read in those fixed offsets: the first tick in `before` while the zone
 * still has it; else, for a whole-hour jump, a tick at a local time the jump skips, moved by the
 * jump (02:30 to 03:30 in New York, as cron-parser resolves it); else the first tick in `then`
 * from the jump. A tick a half-hour jump skips (Australia/Lord_Howe) is skipped, as
 * fixedOffsetNext reads it.
 */
function springNext(cron: string, tz: string, after: number, due: number, before: string): number | null {
  // The jump: the first change after three hours before `after`, found a week at a time (no
  // zone changes its offset twice in a week), then by halving (some 30 offsets read, no parse).
  // cron-parser's answer can be more than a year off, past an autumn change and the spring one
  // after it: halving straight to it could find the later spring change, and read the ticks
  // between in the offset the zone had before the first ("0 1-3 4 10 *" in Sydney, asked at the
  // jump on October 4th, answered 04:00 that day: 03:00 in the winter offset).
  let lo = after - GAP_LOOKBACK_MS;
  let hi = Math.min(due, lo + WEEK_MS);
  while (hi < due && offsetOf(tz, hi) === before) [lo, hi] = [hi, Math.min(due, hi + WEEK_MS)];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetOf(tz, mid) === before) lo = mid;
    else hi = mid;
  }
  const jump = hi;
  const then = offsetOf(tz, jump);
  const shift = (minutesOf(then) - minutesOf(before)) * 60_000;
  const old = parsedNext(cron, before, after);
  if (old < jump) return old;
  const next = parsedNext(cron, then, Math.max(after, jump - 1));
  const real = next > after && offsetOf(tz, next) === then;
  // A moved tick, unless a local time the clock does show comes first: where the jump is not at
  // the hour (Pacific/Chatham's 02:45 to 03:45), 03:45 is a tick of "*/15 3 * * *" before 03:00
  // moved to 04:00.
  if (old < jump + shift && shift % 3_600_000 === 0) return real && next < old ? next : old;
  if (real) return next;
  return fixedOffsetNext(cron, tz, after);
}

/**
 * cron-parser's next tick after `t` in `tz`, looked for up to `within` ms ahead; NaN where it
 * throws or finds none by then.
 */
function parsedNext(cron: string, tz: string, t: number, within = Number.POSITIVE_INFINITY): number {
  try {
    return CronExpressionParser.parse(cron, {
      currentDate: new Date(t),
      tz,
      ...(within === Number.POSITIVE_INFINITY ? {} : { endDate: new Date(t + within) }),
    })
      .next()
      .getTime();
  } catch {
    return Number.NaN;
  }
}

/**
 * The next tick after `after` where cron-parser fails in the zone itself: the earliest tick,
 * computed in a fixed offset (`UTC+10:30`, `UTC+11`), that falls at a moment when the zone has
 * that offset; the offsets tried are the zone's now and its own at each tick found in another.
 * A tick at a local time the change skips is skipped; null when every one is.
 *
 * The offsets take turns, a tick each, and no walk goes past the best tick found: a tick years
 * away (the fifth Monday of February: 2044) costs cron-parser tens of milliseconds a walk, and
 * walking on in the zone's offset of now past a tick found in its other offset (from July in
 * Sydney, whose February is in summer time) cost eight more walks where none could be earlier.
 */
function fixedOffsetNext(cron: string, tz: string, after: number): number | null {
  let best = Number.NaN;
  // Each offset tried, and where its walk goes on from (NaN once it is done).
  const walks = new Map<string, number>([[offsetOf(tz, after), after]]);
  for (let round = 0; round < 8; round++) {
    let walked = false;
    // An offset added in a round takes its first turn in the same round.
    for (const [offset, t] of walks) {
      if (Number.isNaN(t)) continue;
      walked = true;
      const due = parsedNext(cron, offset, t, Number.isNaN(best) ? Number.POSITIVE_INFINITY : best - t);
      if (!(due > t) || due >= best) {
        walks.set(offset, Number.NaN);
        continue;
      }
      const there = offsetOf(tz, due);
      if (there === offset) {
        best = due;
        walks.set(offset, Number.NaN);
        continue;
      }
      walks.set(offset, due);
      if (!walks.has(there) && walks.size < 8) walks.set(there, after);
    }
    if (!walked) break;
  }
  return Number.isNaN(best) ? null : best;
}

/** The zone's offset at `t` as a fixed-offset zone cron-parser reads: `UTC`, `UTC+10:30`. */
function offsetOf(tz: string, t: number): string {
  let format = offsetFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" });
    offsetFormats.set(tz, format);
  }
  const name = format.formatToParts(new Date(t)).find((p) => p.type === "timeZoneName")?.value;
  return name === undefined || name === "GMT" ? "UTC" : name.replace("GMT", "UTC");
}

/** Minutes east of UTC of an offset `offsetOf` names: `UTC-02:00` is -120. */
function minutesOf(offset: string): number {
  const m = /^UTC([+-])(\d\d):(\d\d)$/.exec(offset);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * How far ahead cron-parser looks for a tick in a named zone. A tick that falls in a
 * daylight-saving gap sends it round its loop of 10,000 steps, about half a second of blocked
 * event loop for a schedule every tick of which does (one that never fires); the limit ends that
 * in milliseconds. A tick further ahead (February 29th) is found in fixed offsets by
 * fixedOffsetNext, where no local time is skipped and the search is short however far it goes.
 */
const ZONE_SEARCH_MS = 400 * 86_400_000;

/** A week: no zone changes its offset twice within one. */
const WEEK_MS = 7 * 86_400_000;

/** Longer than any daylight-saving jump (one hour almost everywhere, two at most). */
const GAP_LOOKBACK_MS = 3 * 3_600_000;

/**
 * offsetOf's formatter per zone, by the zone's name as Intl gives it (zoneName): one per zone
 * the runtime knows, a few hundred at most.
 */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Written zone names, each with Intl's name for it, the most kept. Intl reads a zone's name in
 * any case (`america/new_york`, `AMERICA/New_York` are America/New_York), so one zone has
 * millions of spellings, and a policy that any `read` token sends to be validated, evaluated or
 * replayed may use a new one in each of its 32 schedules. Formatters are kept per zone, here
 * and in cron-parser's luxon (about 27 KB each, outside the JavaScript heap, never dropped): were
 * they kept per spelling, every such request would hold on to about 1.7 MB more for good.
 */
export const ZONE_NAMES_KEPT = 4096;
const zoneNames = new BoundedMap<string, string>(ZONE_NAMES_KEPT);

/**
 * Intl's name for the time zone `tz` names (`America/New_York` for `america/NEW_YORK`): what
 * cron-parser and offsetOf are given, so that what they keep per zone is kept once per zone.
 * Throws a RangeError for a name that is no zone (validation refuses those first).
 */
export function zoneName(tz: string): string {
  let name = zoneNames.get(tz);
  if (name === undefined) {
    name = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    zoneNames.set(tz, name);
  }
  return name;
}

/** How many zone formatters offsetOf keeps (for tests). */
export const zoneFormatsKept = (): number => offsetFormats.size;

/** Answers kept (a few hundred bytes each): a policy's 32 schedules for each of 512 requests at once. */
const LAST_TICKS_MAX = 16_384;
const lastTicks = new BoundedMap<string, { from: number; due: number | null; until: number }>(LAST_TICKS_MAX);
const NO_TICK_KEPT_MS = 24 * 3_600_000;

/**
 * Arms every schedule that has no pending timer (including the one that just fired) and
 * removes cron timers whose schedule is gone. The next tick counts from `now`, so ticks
 * missed while the server was down collapse into the one that fires late.
 *
 * With `resync` (after a policy change), a pending future tick that no longer matches its
 * schedule's next tick is moved; an overdue one is left to fire (late) first.
 */
export function cronTimerOps(
  schedules: readonly Schedule[],
  timers: readonly Timer[],
  now: number,
  resync?: (s: Schedule) => number | null,
): TimerOp[] {
  const ops: TimerOp[] = [];
  const pending = new Map(timers.map((t) => [t.name, t]));
  for (const s of schedules) {
    const t = pending.get(s.name);
    if (!t || t.kind !== "cron") {
      const due = nextTick(s, now);
      // A schedule that never ticks arms nothing (a timer of that name that is not a cron tick
      // is the rules' own, and stays).
      if (due !== null) ops.push({ name: s.name, op: "set", dueAt: due, kind: "cron", spec: scheduleSpec(s) });
    } else if (resync && t.dueAt > now) {
      const due = resync(s);
      if (due === null) ops.push({ name: s.name, op: "cancel", kind: "cron" });
      else if (due !== t.dueAt) ops.push({ name: s.name, op: "set", dueAt: due, kind: "cron", spec: scheduleSpec(s) });
    }
  }
  const names = new Set(schedules.map((s) => s.name));
  for (const t of timers)
    if (t.kind === "cron" && !names.has(t.name)) ops.push({ name: t.name, op: "cancel", kind: "cron" });
  return ops;
}

/**
 * A schedule's cron and time zone, as a cron tick's timer row keeps them (timers.spec): a JSON
 * pair, not joined with a NUL, for SQLite reads a text only up to its first NUL (a row written so
 * reads as its cron alone, and matches no schedule: its tick is told by its due time, as one
 * armed before the rows kept schedules).
 */
export const scheduleSpec = (s: Schedule): string => JSON.stringify([s.cron, s.timezone ?? ""]);

/** `nextTick` from one moment, computed once per schedule (for resync across many objects). */
export function nextTicksFrom(now: number): (s: Schedule) => number | null {
  const memo = new Map<string, number | null>();
  return (s) => {
    const key = scheduleSpec(s);
    let due = memo.get(key);
    if (due === undefined) memo.set(key, (due = nextTick(s, now)));
    return due;
  };
}
