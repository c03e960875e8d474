// A daily schedule in a zone whose autumn change repeats the hour from midnight (America/Havana
// goes back from 01:00 to 00:00 on the first Sunday of November, Atlantic/Azores on the last
// Sunday of October): cron-parser, walking into that hour, answers its second pass and never the
// first, which Vigil takes for a tick already fired, so a midnight schedule skipped the day of
// the change. It fires at the first pass, once, as the other autumn changes do.

import { afterEach, expect, test } from "vitest";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test.each([
  // Havana: Saturday 00:00 local (-04), Sunday's first 00:00 (-04), Monday 00:00 (-05).
  ["America/Havana", "2026-10-30T12:00:00Z", ["2026-10-31T04:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"]],
  // Azores: Saturday 00:00 local (+00), Sunday's first 00:00 (+00), Monday 00:00 (-01).
  ["Atlantic/Azores", "2026-10-23T12:00:00Z", ["2026-10-24T00:00:00Z", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"]],
])("a midnight schedule in %s fires on the day of the autumn change, once", async (timezone, start, ticks) => {
  s = await makeServices({ start: Date.parse(start) });
  const policy = scheduledPolicy({ name: "midnight", cron: "0 0 * * *", timezone });
  expect(s.policies.loadText(JSON.stringify(policy), "inline/midnight.json").ok).toBe(true);
  const fired: string[] = [];
  s.governor.events.on("timer:fired", () => fired.push(new Date(s!.clock.now()).toISOString()));
  await s.governor.putObject("o", { policy: "midnight" });
  await s.advance(3 * 86_400_000);
  expect(fired).toEqual(ticks.map((t) => new Date(t).toISOString()));
});
