// The usage table stays inside its panel, in chromium: at a 1024 px
// laptop a usage of "420 d 32 min" (its bars a fixed 80 px, no cell wrapping) was 357 px wide in
// a panel of 255, and spilled past the panel and the window, so that the whole page scrolled
// sideways (1,089 px); at 1280 and at a phone's 390 px it crossed the panel's border too.

import { expect, test } from "vitest";
import { seed, uiSuite } from "./browser.ts";

const ui = uiSuite();
const DAY = 86_400_000;

test.each([1024, 1280, 390])(
  "at %d px, the usage table keeps within its panel, and the page does not scroll sideways",
  async (width) => {
    const server = await ui.start();
    await seed(server.services);
    await server.services.advance(420 * DAY);
    const page = await ui.page();
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${server.url}/ui/objects/worker-1`);
    await page.locator("#usage-body table").waitFor();
    await expect.poll(() => page.locator("#usage-body").innerText()).toContain("420 d");
    // What shows of the table: its own box, or its scroller's where it is in one.
    const spill = await page.evaluate(`(() => {
    const box = document.querySelector("#usage").getBoundingClientRect();
    return [...document.querySelectorAll("#usage table")].map((table) => {
      const shown = (table.closest(".table-wrap") ?? table).getBoundingClientRect();
      return { panel: "#usage", over: Math.max(0, Math.round(shown.right - box.right)) };
    });
  })()`);
    expect(spill).toEqual([{ panel: "#usage", over: 0 }]);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
  },
);
