// The decisions' table of an object's page fits its panel at a laptop's width, in chromium: with
// decisions from another year ("1 Mar 2026, 00:37:00", the year named) and timers' triggers, it
// was 625 px wide in a panel of 618 at 1366 px (578 at 1280), and its Explain buttons were cut
// off behind a sideways scroll bar.

import { expect, test } from "vitest";
import { LAPTOP, seed, uiSuite } from "./browser.ts";

const ui = uiSuite();
const DAY = 86_400_000;

test.each([LAPTOP.width, 1280])("at %d px, last year's decisions leave every Explain button in view", async (width) => {
  const server = await ui.start();
  await seed(server.services);
  await server.services.advance(420 * DAY);
  const page = await ui.page();
  await page.setViewportSize({ width, height: 800 });
  await page.goto(`${server.url}/ui/objects/worker-1`);
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(16);
  expect(await page.locator("#decision-rows tr").first().locator("td").first().textContent()).toBe(
    "1 Mar 2026, 00:37:00",
  );
  const fit = await page.evaluate(`(() => {
    const wrap = document.querySelector("#decision-rows").closest(".table-wrap");
    const right = wrap.getBoundingClientRect().right;
    const buttons = [...document.querySelectorAll("#decision-rows button")];
    return { scrolls: wrap.scrollWidth > wrap.clientWidth, cut: buttons.filter((b) => b.getBoundingClientRect().right > right).length };
  })()`);
  expect(fit).toEqual({ scrolls: false, cut: 0 });
});
