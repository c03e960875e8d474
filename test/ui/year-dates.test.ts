// Dates on the dashboard carry their year when it is not the server's current year: an object
// kept for over a year has a decision from last March, which is not this March's. Time on the
// server is a virtual clock the test moves.

import { expect, test } from "vitest";
import { uiSuite } from "./browser.ts";

const ui = uiSuite();
const DAY = 86_400_000;

test("a decision from last year is shown with its year, one from this year without", async () => {
  const server = await ui.start();
  const { governor, advance } = server.services;
  // Created on 1 March 2026; a fact on 5 April 2027 wakes it.
  await governor.putObject("old", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await advance(400 * DAY);
  await governor.postFacts("old", { work: { pending: 1 } });
  await advance(DAY);
  const page = await ui.open("/ui/objects/old");
  const rows = page.locator("#decision-rows tr");
  await rows.nth(1).waitFor();
  expect(await rows.nth(0).locator("td").first().textContent()).toBe("5 Apr, 00:00:00");
  expect(await rows.nth(1).locator("td").first().textContent()).toBe("1 Mar 2026, 00:00:00");
  expect(await page.locator("#timeline-range").textContent()).toMatch(/^1 Mar 2026, 00:00:00 to 6 Apr, 00:00:00 /);
});

test("the timeline's axis names last year's days with their year", async () => {
  const server = await ui.start();
  const { governor, advance, clock } = server.services;
  // Created on 28 December 2026; on 3 January 2027 the axis has a tick a day.
  await advance(Date.parse("2026-12-28T00:00:00Z") - clock.now());
  await governor.putObject("new-year", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await advance(6 * DAY);
  const page = await ui.open("/ui/objects/new-year");
  await page.locator("#timeline-chart svg text.tick").first().waitFor();
  expect(await page.locator("#timeline-chart svg text.tick").allTextContents()).toEqual([
    "28 Dec 2026",
    "29 Dec 2026",
    "30 Dec 2026",
    "31 Dec 2026",
    "1 Jan",
    "2 Jan",
    "3 Jan",
  ]);
});
