// The usage table's share column is in view, in chromium: with its cells kept on one line and
// each share's bar a fixed 80 px, an object 420 days old ("420 d 32 min") made the table wider
// than its scroller in the usage panel at 1280 px (and at 1024 and a phone's 390), so that the
// "100%" column sat behind a scroll bar.

import { expect, test } from "vitest";
import { seed, uiSuite } from "./browser.ts";

const ui = uiSuite();
const DAY = 86_400_000;

test.each([1366, 1280, 1024, 390])(
  "at %d px, the usage table does not scroll and each share is in view",
  async (width) => {
    const server = await ui.start();
    await seed(server.services);
    await server.services.advance(420 * DAY);
    const page = await ui.page();
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${server.url}/ui/objects/worker-1`);
    await page.locator("#usage-body table").waitFor();
    await expect.poll(() => page.locator("#usage-body").innerText()).toContain("420 d");
    const fit = await page.evaluate(`(() => {
    const wrap = document.querySelector("#usage-body .table-wrap");
    const box = wrap.getBoundingClientRect();
    const shares = [...wrap.querySelectorAll("tbody tr td:last-child")];
    return {
      scrolls: wrap.scrollWidth > wrap.clientWidth,
      shares: shares.length,
      // A state's badge on one line, not broken mid-word to make room ("dorm" over "ant").
      broken: [...wrap.querySelectorAll("tbody th .badge")].filter((b) => {
        const range = document.createRange();
        range.selectNodeContents(b);
        return range.getClientRects().length > 1;
      }).length,
      cut: shares.filter((td) => td.getBoundingClientRect().right > box.right + 0.5).map((td) => td.innerText.trim()),
    };
  })()`);
    expect(fit).toEqual({ scrolls: false, shares: 5, broken: 0, cut: [] });
  },
);
