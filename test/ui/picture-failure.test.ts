// "Open as picture" on a server with tokens reads the picture with the tab's token: when that
// read fails (the object deleted since, the server gone), the page says so beside the link, in
// chromium. The click did nothing at all: no picture, no word. And a page for an id no object
// has offers the link only once it has a timeline to draw.

import { expect, test } from "vitest";
import { ADMIN_TOKEN, READ_TOKEN, READER_AND_ADMIN, SIMULATED, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("a picture that cannot be read says why beside its link, and opens no tab", async () => {
  const server = await ui.start({ tokens: READER_AND_ADMIN });
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED }, ADMIN_TOKEN);
  const page = await ui.open("/ui/objects/w-1");
  await page.getByLabel("Read token").fill(READ_TOKEN);
  await page.getByRole("button", { name: "Use token" }).click();
  await synced(page);
  const said = page.locator("#picture-error");
  expect(await said.isHidden()).toBe(true);
  expect(await said.getAttribute("role")).toBe("alert");
  const popups: string[] = [];
  page.on("popup", (p) => popups.push(p.url()));

  expect((await server.call("DELETE", "/v1/objects/w-1", undefined, ADMIN_TOKEN)).status).toBe(204);
  await page.getByText("There is no object with this id: it was deleted").waitFor();
  await page.getByRole("link", { name: "Open as picture" }).click();
  await said.getByText('The picture could not be read (404: object "w-1" not found).', { exact: true }).waitFor();

  // The server gone: no reply at all.
  await server.close();
  await page.getByRole("link", { name: "Open as picture" }).click();
  await said.getByText("The picture could not be read (the server did not answer).", { exact: true }).waitFor();
  expect(popups).toEqual([]);
});

test("a page for an id no object has offers no picture until the object is drawn", async () => {
  const server = await ui.start();
  const page = await ui.open("/ui/objects/w-2");
  await synced(page);
  // Its link went to "#": a tab of this page's own shell, or with a token a blob of it, unstyled.
  expect(await page.locator("#picture").isHidden()).toBe(true);
  await server.call("PUT", "/v1/objects/w-2", { policy: "queue-worker", substrate: SIMULATED });
  const link = page.getByRole("link", { name: "Open as picture" });
  await link.waitFor();
  expect(new URL((await link.getAttribute("href"))!, server.url).pathname).toBe("/ui/objects/w-2/timeline.svg");
});
