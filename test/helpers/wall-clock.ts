// The wall clock of a time zone read from Intl alone, without cron-parser: what the schedule
// tests check cron's ticks against, minute by minute.

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The local time the clocks in `tz` show at the instant `t`, to the minute, as the epoch ms of
 * that local time read as UTC (`local - t` is the zone's offset then).
 */
export function localTime(tz: string, t: number): number {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formats.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!);
}
