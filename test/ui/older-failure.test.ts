// "Load older decisions" whose read fails (the server restarting, no reply at all) says why beside
// the button, and a click once the server answers brings them, in chromium. The failure went
// unhandled: the click did nothing at all, saying nothing.

import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { SIMULATED, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** The newest page of decisions cut to two, naming where the older ones start. */
async function cutNewest(page: Page) {
  await page.route(
    (url) => url.pathname.endsWith("/decisions") && !url.searchParams.has("before"),
    async (route) => {
      const reply = await route.fetch();
      const items = ((await reply.json()) as { items: { id: string }[] }).items.slice(0, 2);
      await route.fulfill({ response: reply, json: { items, nextBefore: items[1]!.id } });
    },
  );
}

test("older decisions that cannot be read are said to be so beside the button, and come on a later click", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/q-1", { policy: "queue-worker", substrate: SIMULATED });
  for (let k = 0; k < 5; k++)
    expect((await server.call("POST", "/v1/objects/q-1/facts", { facts: { k } })).status).toBe(200);
  const page = await ui.page();
  await cutNewest(page);
  await page.goto(`${server.url}/ui/objects/q-1`);
  await synced(page);
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(2);
  const older = page.getByRole("button", { name: "Load older decisions" });
  const said = page.locator("#older-error");
  expect(await said.getAttribute("role")).toBe("alert");

  const refuse = (url: URL) => url.searchParams.has("before");
  await page.route(refuse, (route) => route.abort("connectionrefused"));
  await older.click();
  await said.getByText("The older decisions could not be read (the server did not answer).", { exact: true }).waitFor();
  expect(await page.locator("#decision-rows tr").count()).toBe(2);

  await page.unroute(refuse);
  await page.route(refuse, (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/problem+json",
      body: JSON.stringify({ status: 503, title: "Service Unavailable", detail: "the server is shutting down" }),
    }),
  );
  await older.click();
  await said.getByText("The older decisions could not be read (503: the server is shutting down).").waitFor();

  await page.unroute(refuse);
  await older.click();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(6);
  expect(await said.textContent()).toBe("");
  expect(await older.isHidden()).toBe(true);
});
