// The object page names the time zone its clock times are in (the browser's), in chromium: the
// timeline's range and the decisions' "At" column said "00:00:00 to 00:45:00" with no zone, read
// by an operator beside the server's logs and the API's times, which are UTC. A decision from the
// other side of a clock change names its own zone: under "At (BST)" a winter time read an hour off.
// An explanation, a panel of its own, names the zone of its time and its timers' due times.

import { expect, test } from "vitest";
import { seed, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("in Paris, the timeline's range and the decisions' heading name the zone of their times", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui/objects/worker-1", "Europe/Paris");
  await synced(page);
  // 1 March 2026, 00:00 to 00:45 UTC: 01:00 to 01:45 in Paris, on Central European Time.
  expect(await page.locator("#timeline-range").textContent()).toMatch(
    /^1 Mar, 01:00:00 to 1 Mar, 01:45:00 CET \(45 min\), 16 decisions$/,
  );
  expect(await page.locator("#decision-at").textContent()).toBe("At (CET)");
});

test("across a clock change, each end of the range names its own zone", async () => {
  const server = await ui.start();
  const { governor, advance, clock } = server.services;
  // London moves to summer time at 01:00 UTC on 29 March 2026.
  await advance(Date.parse("2026-03-28T23:00:00Z") - clock.now());
  await governor.putObject("dst", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await advance(4 * 3_600_000);
  const page = await ui.open("/ui/objects/dst", "Europe/London");
  await synced(page);
  expect(await page.locator("#timeline-range").textContent()).toMatch(
    /^28 Mar, 23:00:00 GMT to 29 Mar, 04:00:00 BST \(4 h\)/,
  );
});

test("a decision from before a clock change names its zone under the heading's other one", async () => {
  const server = await ui.start();
  const { governor, advance, clock } = server.services;
  // London moves to summer time at 01:00 UTC on 29 March 2026: created at 23:00 GMT, woken at 05:00 BST.
  await advance(Date.parse("2026-03-28T23:00:00Z") - clock.now());
  await governor.putObject("dst", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await advance(5 * 3_600_000);
  await governor.postFacts("dst", { work: { pending: 1 } });
  const page = await ui.open("/ui/objects/dst", "Europe/London");
  await synced(page);
  expect(await page.locator("#decision-at").textContent()).toBe("At (BST)");
  const times = await page.locator("#decision-rows time").allTextContents();
  // The creation read "28 Mar, 23:00:00" under "At (BST)": midnight in summer time.
  expect(times).toEqual(["05:00:00", "28 Mar, 23:00:00 GMT"]);
  expect(
    await page.getByRole("button", { name: /^Explain the decision at 28 Mar, 23:00:00 GMT: create/ }).count(),
  ).toBe(1);
});

test("an explanation names the zone of its time and of its timers' due times", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui/objects/worker-1", "Europe/Paris");
  await synced(page);
  // The job's decision at 00:15 UTC, 01:15 in Paris: a hold for a minute.
  await page.getByRole("button", { name: /^Explain the decision at 01:15:00: facts/ }).click();
  const facts = page.locator("#explanation-body .facts");
  await facts.waitFor();
  const values = await facts.locator("dd").allTextContents();
  expect(values[0]).toBe("1 Mar, 01:15:00 CET");
  // Its hold timer, due a minute on: 01:16 in Paris.
  expect(values).toContain("set hold at 01:16:00 CET");
});
