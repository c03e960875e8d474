// A page of decisions may hold fewer than its limit and still have older ones after it: the
// server stops a page at 4 MiB of JSON and says where to go on (`nextBefore`). The object page
// offers "Older" by that, not by a page holding exactly the limit, which a cut page never does.

import { expect, test } from "vitest";
import { SIMULATED, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("a first page cut short that names nextBefore offers the older decisions, and they come back", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/q-1", { policy: "queue-worker", substrate: SIMULATED });
  for (let k = 0; k < 5; k++)
    expect((await server.call("POST", "/v1/objects/q-1/facts", { facts: { k } })).status).toBe(200);
  const page = await ui.page();
  // The newest page as a server cuts one: two decisions, and where the next page starts.
  await page.route(
    (url) => url.pathname.endsWith("/decisions") && !url.searchParams.has("before"),
    async (route) => {
      const reply = await route.fetch();
      const items = ((await reply.json()) as { items: { id: string }[] }).items.slice(0, 2);
      await route.fulfill({ response: reply, json: { items, nextBefore: items[1]!.id } });
    },
  );
  await page.goto(`${server.url}/ui/objects/q-1`);
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(2);
  await page.locator("#older").waitFor();
  await page.locator("#older").click();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(6);
  expect(await page.locator("#older").isHidden()).toBe(true);
});
