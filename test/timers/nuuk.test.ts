// A schedule in America/Nuuk, whose spring change is at 23:00 on the last Saturday of March
// (-02 to -01): cron-parser jumped over that whole Saturday, so "0 */2 * * *" fired at 22:00 on
// Friday and next at 00:00 on Sunday, and the remembered answer armed every object created that
// Saturday for Sunday too. Each of Saturday's ticks fires, once, on time.

import { afterEach, expect, test } from "vitest";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const policy = scheduledPolicy({ name: "nuuk", cron: "0 */2 * * *", timezone: "America/Nuuk" });

test("an every-two-hours schedule fires all of the Saturday before the change, and objects created that day are armed for its next tick", async () => {
  // Friday 2026-03-27 21:00 local (-02).
  s = await makeServices({ start: Date.parse("2026-03-27T23:00:00Z") });
  expect(s.policies.loadText(JSON.stringify(policy), "inline/nuuk.json").ok).toBe(true);
  const fired: string[] = [];
  s.governor.events.on("timer:fired", (o, _n, late) =>
    fired.push(`${o} ${new Date(s!.clock.now()).toISOString()}${late ? " late" : ""}`),
  );
  await s.governor.putObject("friday", { policy: "nuuk" });
  await s.advance(3 * 3_600_000); // Saturday 00:00 local
  const { object } = await s.governor.putObject("saturday", { policy: "nuuk" });
  expect(object.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2026-03-28T04:00:00Z")); // 02:00
  await s.advance(23 * 3_600_000 + 60_000); // Sunday 01:01 local (-01)
  const friday = fired.filter((f) => f.startsWith("friday ")).map((f) => f.slice(7));
  expect(friday).toEqual([
    "2026-03-28T00:00:00.000Z", // Friday 22:00
    ...[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24].map((h) => new Date(Date.UTC(2026, 2, 28, h)).toISOString()),
    "2026-03-29T01:00:00.000Z", // Sunday 00:00 (-01)
  ]);
  expect(fired.filter((f) => f.startsWith("saturday "))).toHaveLength(12); // 02:00 Saturday to 00:00 Sunday
});
