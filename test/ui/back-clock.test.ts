// The dashboard's clock after the browser's Back button: the page shell carries the server's
// time (data-now), which the page counts from, so Back must read the shell again rather than
// reuse the one stored at the first visit. Time on the server is a virtual clock the test moves.

import { expect, test } from "vitest";
import { rowOf, uiSuite } from "./browser.ts";

const ui = uiSuite();
const MIN = 60_000;

test("after Back, the objects list counts time from the server's now, not the first visit's", async () => {
  const server = await ui.start();
  const { governor, advance } = server.services;
  await governor.putObject("w", { policy: "on-demand", substrate: { driver: "simulated", config: {} } });
  await advance(MIN);
  const page = await ui.open("/ui");
  await rowOf(page, "w").waitFor();
  expect(await rowOf(page, "w").locator("td.since").textContent()).toBe("1 min ago");
  await rowOf(page, "w").getByRole("link").click();
  await page.waitForURL(/\/ui\/objects\/w$/);
  await page.locator("#decision-rows tr").first().waitFor();
  // Ten minutes pass while the reader looks at the object; it wakes a minute before they go back.
  await advance(9 * MIN);
  await governor.postFacts("w", { work: { pending: 1 } });
  await advance(MIN);
  await page.goBack();
  await expect.poll(() => rowOf(page, "w").locator(".badge").textContent()).toBe("active");
  // The simulated substrate starts at once: active since the fact, a minute before the server's now.
  expect(await rowOf(page, "w").locator("td.since").textContent()).toBe("1 min ago");
  expect(await page.locator("body").getAttribute("data-now")).toBe(String(server.services.clock.now()));
}, 60_000);
