// The timeline's decision marks are one stop in the Tab order (the newest, or the decision opened
// last), and the arrow keys, Home and End move along them, in chromium. Each mark was a stop of its
// own: with an object page's 200 decisions, a keyboard user pressed Tab 200 times between "Open as
// picture" and the list of decisions.

import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { SIMULATED, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** What has the keyboard focus: its name. */
const focused = (page: Page) =>
  page.evaluate(`document.activeElement.getAttribute("aria-label") ?? document.activeElement.textContent.trim()`);

test("Tab stops at one mark of thirty, and the arrow keys, Home and End go along them", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/q-1", { policy: "queue-worker", substrate: SIMULATED });
  for (let k = 0; k < 29; k++) {
    await server.services.advance(60_000);
    expect((await server.call("POST", "/v1/objects/q-1/facts", { facts: { k } })).status).toBe(200);
  }
  const page = await ui.open("/ui/objects/q-1");
  await synced(page);
  expect(await page.locator("#timeline-chart a.mark").count()).toBe(30);
  await page.locator("#picture").focus();
  await page.keyboard.press("Tab");
  expect(await focused(page)).toMatch(/^Decision at 00:29:00: facts/);
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("Explain the decision at 00:29:00: facts, none");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("ArrowLeft");
  expect(await focused(page)).toMatch(/^Decision at 00:28:00: facts/);
  await page.keyboard.press("Home");
  expect(await focused(page)).toMatch(/^Decision at 00:00:00: create/);
  await page.keyboard.press("ArrowLeft");
  expect(await focused(page)).toMatch(/^Decision at 00:00:00: create/);
  await page.keyboard.press("Enter");
  await page.locator("#explanation-body").getByText("create", { exact: false }).first().waitFor();
  expect(await page.locator("#decision-rows tr.selected").count()).toBe(1);
  // Enter took the focus to the explanation; the mark opened is now the stop.
  await page.locator("#picture").focus();
  await page.keyboard.press("Tab");
  expect(await focused(page)).toMatch(/^Decision at 00:00:00: create/);
  await page.keyboard.press("End");
  expect(await focused(page)).toMatch(/^Decision at 00:29:00/);
});
