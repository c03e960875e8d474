// On a phone's 390 px, signed in with a token, the header bar holds all it shows, in chromium: it
// kept its 48 px height on one line, "Forget token" wrapped onto two lines past its bottom edge
// (53 px tall) and "Live" and "API reference" broke in two.

import { expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import { seed, synced, uiSuite } from "./browser.ts";

const READ = "0123456789abcdef-reader";
const TOKENS: TokenConfig[] = [{ name: "reader", token: READ, scopes: ["read"] }];

const ui = uiSuite();

test("at 390 px with a token, the header's links, status and Forget token stay whole inside the bar", async () => {
  const server = await ui.start({ tokens: TOKENS });
  await seed(server.services);
  const page = await ui.page();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/ui`);
  await page.getByLabel("Read token").fill(READ);
  await page.getByRole("button", { name: "Use token" }).click();
  await synced(page);
  await page.locator("#forget").waitFor();
  const boxes = (await page.evaluate(`(() => {
    const bar = document.querySelector(".top").getBoundingClientRect();
    // The height of its text: less its padding and border.
    const textHeight = (e) => {
      const st = getComputedStyle(e);
      const edges = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"];
      return e.getBoundingClientRect().height - edges.reduce((sum, k) => sum + parseFloat(st[k]), 0);
    };
    return [...document.querySelectorAll(".top a, #live, #forget")].map((e) => {
      const r = e.getBoundingClientRect();
      return {
        what: e.textContent.trim(),
        inside: r.top >= bar.top && r.bottom <= bar.bottom && r.left >= bar.left && r.right <= bar.right,
        oneLine: e.getClientRects().length === 1 && textHeight(e) < 1.5 * parseFloat(getComputedStyle(e).lineHeight),
      };
    });
  })()`)) as { what: string; inside: boolean; oneLine: boolean }[];
  expect(boxes.map((b) => b.what)).toEqual(["Vigil", "Objects", "API reference", "Live", "Forget token"]);
  expect(boxes.filter((b) => !b.inside || !b.oneLine)).toEqual([]);
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
});
