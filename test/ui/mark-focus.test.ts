// The keyboard's focus on a decision's mark (the timeline's marks are links) is drawn with a
// contrast of at least 3:1 against the panel around it, as WCAG asks of a focus indicator, in
// chromium. It was a pale blue fill of the mark's hit area, 1.4:1 on the panel's white.

import { expect, test } from "vitest";
import { seed, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** WCAG's contrast ratio of two computed colours (`rgb(r, g, b)`). */
function contrast(a: string, b: string): number {
  const luminance = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).map(Number).map((v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

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
