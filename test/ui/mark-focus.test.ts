// The keyboard's focus on a decision's mark (the timeline's marks are links) is drawn with a
// contrast of at least 3:1 against the panel around it, as WCAG asks of a focus indicator, in
// chromium. It was a pale blue fill of the mark's hit area, 1.4:1 on the panel's white.

import { expect, test } from "vitest";
import { contrast, seed, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("a decision's mark that Tab reaches shows its focus at 3:1 or more against the panel", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui/objects/worker-1");
  await synced(page);
  await page.locator("#picture").focus();
  await page.keyboard.press("Tab");
  const seen = (await page.evaluate(`(() => {
    const mark = document.activeElement;
    const hit = getComputedStyle(mark.querySelector(".hit"));
    return {
      decision: mark.dataset.decision ?? null,
      indicator: hit.stroke !== "none" ? hit.stroke : hit.fill,
      panel: getComputedStyle(document.getElementById("timeline")).backgroundColor,
    };
  })()`)) as { decision: string | null; indicator: string; panel: string };
  expect(seen.decision).not.toBeNull();
  expect(contrast(seen.indicator, seen.panel)).toBeGreaterThanOrEqual(3);
});
