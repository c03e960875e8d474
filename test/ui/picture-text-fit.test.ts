// The timelines' picture (the dashboard's Open as picture, vigil simulate --report) keeps its
// text inside it, drawn by chromium: a row's label cut at 24 characters was still wider than the
// 152 px left of the band for an id of x's (its start cut off at the picture's left edge), and
// the heading of a 128-character id ran off the right edge, "(policy on-demand)" with it.

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { renderTimelines, renderWaitHistogram } from "../../src/report/svg.ts";
import { launchBrowser } from "./browser.ts";

let browser: Browser | undefined;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const T = Date.parse("2026-03-01T00:00:00Z");

/** The texts of `svg` whose box, as chromium draws them, reaches outside the picture. */
async function outside(svg: string): Promise<string[]> {
  const page = await browser!.newPage();
  try {
    await page.setContent(`<body style="margin:0">${svg}</body>`);
    return (await page.evaluate(`(() => {
      const svg = document.querySelector("svg");
      const width = Number(svg.getAttribute("width"));
      return [...svg.querySelectorAll(":scope > text")]
        .filter((t) => { const b = t.getBBox(); return b.x < 0 || b.x + b.width > width; })
        .map((t) => t.textContent);
    })()`)) as string[];
  } finally {
    await page.close();
  }
}

test.each(["x", "W", "m", "a1-"])("ids of 128 %j: each label and the heading inside the picture", async (c) => {
  const id = c.repeat(Math.ceil(128 / c.length)).slice(0, 128);
  const segments = [{ state: "dormant", from: T, to: T + 3_600_000 }];
  const svg = renderTimelines(
    [
      { objectId: id, segments },
      { objectId: "worker-1", segments },
    ],
    { from: T, to: T + 3_600_000, title: `${id} (policy on-demand)`, width: 1200 },
  );
  expect(await outside(svg)).toEqual([]);
  // The whole id and title are still in the picture's tooltips, and a short id is shown whole.
  expect(svg).toContain(`<title>${id}</title>`);
  expect(svg).toContain(`<title>${id} (policy on-demand)</title>`);
  expect(svg).toMatch(/>worker-1<\/text>/);
  expect(await outside(renderWaitHistogram([{ name: "a", waits: [1] }], { title: id }))).toEqual([]);
});
