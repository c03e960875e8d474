// A daily tick in the hour an autumn change repeats fires once that day, also when its first
// pass fired late (the server down or busy over it) and the next tick was armed from inside the
// repeated hour: that arming answered the second pass, and the tick fired twice.
import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const daily = (tz: string, cron: string) => ({
  name: "daily",
  version: "1",
  schedules: [{ name: "evening", cron, timezone: tz }],
  rules: [
    {
      name: "on-tick",
      conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "evening" }] },
      event: { type: "hold-active", params: { for: "PT1M" } },
    },
  ],
});

test.each([
  // 2026-10-25: in Berlin 00:30Z is the first 02:30 (CEST), 01:30Z the second (CET); in Nuuk
  // 23:30 local is 01:30Z before its change and 01:30Z the next day after it.
  ["Europe/Berlin", "30 2 * * *"],
  ["America/Nuuk", "30 23 * * *"],
])("%s %s: the first pass fired late, from inside the repeated hour; no second pass", async (tz, cron) => {
  s = await makeServices({ start: Date.parse("2026-10-24T12:00:00Z") });
  expect(s.policies.loadText(JSON.stringify(daily(tz, cron)), "inline/daily.json").ok).toBe(true);
  const fired: string[] = [];
  s.governor.events.on("timer:fired", (_o, name, late) => {
    if (name === "evening") fired.push(`${new Date(s!.clock.now()).toISOString()}${late ? " late" : ""}`);
  });
  await s.governor.putObject("o", { policy: "daily" });
  await s.clock.advanceTo(Date.parse("2026-10-25T00:20:00Z"), () => s!.governor.idle());
  // The process stalls over the first pass, and comes back inside the repeated hour.
  s.clock.jumpTo(Date.parse("2026-10-25T01:10:00Z"));
  await s.advance(26 * 3_600_000);
  expect(fired).toEqual(["2026-10-25T01:10:00.000Z late", "2026-10-26T01:30:00.000Z"]);
});
