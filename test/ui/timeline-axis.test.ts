// The object page's time axis in a real Chromium: round times in the reader's time zone, on
// both sides of a daylight saving change, and labels however long the window (from the oldest
// decision to now). Time on the server is a virtual clock the test moves.

import { describe, expect, test } from "vitest";
import { uiSuite } from "./browser.ts";

const ui = uiSuite();
const DAY = 86_400_000;
const SIMULATED = { driver: "simulated", config: {} };

/** The tick labels of the object page's timeline, once it is drawn. */
async function tickLabels(path: string, timezoneId?: string): Promise<string[]> {
  const page = await ui.open(path, timezoneId);
  await page.locator("#timeline-chart svg text.tick").first().waitFor();
  return page.locator("#timeline-chart svg text.tick").allTextContents();
}

describe("the timeline's axis", () => {
  test.each([
    // Each day, then the 1st and the 15th of each month (Mondays between the two).
    [10, /^\d{1,2} (Mar|Apr)$/],
    [100, /^(1|15) (Mar|Apr|May|Jun)$/],
    // Months, then years.
    [400, /^(Jan|Apr|Jul|Oct) 202[67]$/],
    [3000, /^20(2[6-9]|3[0-4])$/],
  ])(
    "over %i days has several labels, each a round date",
    async (days, label) => {
      const server = await ui.start();
      const { governor, advance } = server.services;
      await governor.putObject("old", { policy: "on-demand", substrate: SIMULATED });
      await advance(days * DAY);
      await governor.postFacts("old", { work: { pending: 1 } });
      const ticks = await tickLabels("/ui/objects/old");
      expect(ticks.length, JSON.stringify(ticks)).toBeGreaterThanOrEqual(3);
      for (const t of ticks) expect(t, JSON.stringify(ticks)).toMatch(label);
    },
    60_000,
  );

  test("ticks stay on round local times across a daylight saving change", async () => {
    const server = await ui.start();
    const { governor, advance, clock } = server.services;
    // Berlin moves to summer time at 02:00 on 29 March 2026; the window is 27 March 12:00 UTC to 30 March.
    await advance(Date.parse("2026-03-27T12:00:00Z") - clock.now());
    await governor.putObject("dst", { policy: "on-demand", substrate: SIMULATED });
    await advance(3 * DAY);
    await governor.postFacts("dst", { work: { pending: 1 } });
    const ticks = await tickLabels("/ui/objects/dst", "Europe/Berlin");
    // Midnight and noon in Berlin, an hour apart in UTC before and after the change; the 30th is today.
    expect(ticks).toEqual(["28 Mar, 00:00", "28 Mar, 12:00", "29 Mar, 00:00", "29 Mar, 12:00", "00:00", "12:00"]);
  }, 60_000);
});
