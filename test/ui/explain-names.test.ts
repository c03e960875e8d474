// Each decision's Explain button has a name of its own, in chromium: two decisions in one second
// (worker-1's fact and its hold's timer at 00:25:00) were both "Explain the decision at
// 00:25:00", which a screen reader's list of the page's buttons could not tell apart.

import { expect, test } from "vitest";
import { seed, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("the decisions' Explain buttons have distinct names, with the trigger and the outcome", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui/objects/worker-1");
  await synced(page);
  const names = (await page
    .locator("#decision-rows button")
    .evaluateAll((buttons) => buttons.map((b) => b.getAttribute("aria-label")))) as string[];
  expect(names.length).toBe(16);
  expect(new Set(names).size).toBe(names.length);
  expect(names).toContain("Explain the decision at 00:25:00: facts, hold-active");
  expect(names).toContain("Explain the decision at 00:25:00: timer: hold, hold-active");
});
