// "Open as picture" with a token reads the picture and opens it as a blob: URL in a new tab, in
// chromium. Each such URL kept its picture in the dashboard tab's memory until the tab was
// closed, a copy a click; it is let go a minute after the new tab opened it.

import { expect, test } from "vitest";
import { READ_TOKEN, READER_AND_ADMIN, seed, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("each picture's blob: URL is revoked a minute after its tab opened, and the tab still shows it", async () => {
  const server = await ui.start({ tokens: READER_AND_ADMIN });
  await seed(server.services);
  const page = await ui.page();
  await page.clock.install();
  // The tab's token, and a record of the object URLs the page makes and lets go.
  await page.addInitScript(`(() => {
    sessionStorage.setItem("vigil.read-token", ${JSON.stringify(READ_TOKEN)});
    window.__urls = { made: [], revoked: [] };
    const create = URL.createObjectURL.bind(URL);
    const revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (blob) => { const url = create(blob); window.__urls.made.push(url); return url; };
    URL.revokeObjectURL = (url) => { window.__urls.revoked.push(url); revoke(url); };
  })()`);
  await page.goto(`${server.url}/ui/objects/worker-1`);
  await page.locator("#live[data-status=live]").waitFor();
  const opened: string[] = [];
  const pictures = [];
  for (let i = 0; i < 2; i++) {
    const popup = page.waitForEvent("popup");
    await page.getByRole("link", { name: "Open as picture" }).click();
    const picture = await popup;
    await picture.waitForLoadState();
    expect(await picture.locator("svg").getAttribute("aria-label")).toContain("worker-1");
    opened.push(picture.url());
    pictures.push(picture);
  }
  const urls = () => page.evaluate("window.__urls") as Promise<{ made: string[]; revoked: string[] }>;
  expect((await urls()).made).toEqual(opened);
  await page.clock.runFor(60_000);
  expect((await urls()).revoked.sort()).toEqual([...opened].sort());
  for (const picture of pictures) expect(await picture.locator("svg").getAttribute("aria-label")).toContain("worker-1");
});
