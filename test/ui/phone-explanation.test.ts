// On a phone's 390 px, a decision's explanation shows its facts (At, Trigger, State...) whole, in
// chromium: laid out two pairs a row, as on a laptop, the values were a few letters wide and
// overflowed the panel, "substrate (stopped)" read "substra" and "dormant" "dorman" unless the
// reader scrolled the explanation sideways.

import { expect, test } from "vitest";
import { seed, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("at 390 px, an explanation's facts fit the panel, each value whole", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.page();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/ui/objects/worker-1`);
  await synced(page);
  // The wake at 00:37 (facts): dormant -> waking, a start confirmed.
  await page.getByRole("button", { name: /^Explain the decision at 00:37:00: facts, wake$/ }).click();
  const body = page.locator("#explanation-body");
  await body.locator(".facts").waitFor();
  expect(await body.locator(".facts dd").allTextContents()).toContain("dormant → waking");
  const fit = (await body.evaluate((el) => [el.scrollWidth, el.clientWidth] as const)) as readonly [number, number];
  expect(fit[0]).toBeLessThanOrEqual(fit[1]);
  const cut = await body.evaluate((el) =>
    [...el.querySelectorAll(".facts dt, .facts dd")]
      .filter(
        (e) => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().right > el.getBoundingClientRect().right,
      )
      .map((e) => e.textContent),
  );
  expect(cut).toEqual([]);
});
