// The objects page's live regions (the list's count, the header's connection status) are written
// only when their words change, in chromium: a screen reader announces a live region's text each
// time it is written, and the list is read again at every live update that touches it and at each
// reconnection, which wrote "3 objects." again each time, and "Reconnecting…" twice an attempt.

import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { seed, settled, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** Starts recording each write to the regions of these ids (and to the list's rows), as their text. */
const record = (page: Page, ids: string[]) =>
  page.evaluate(`(() => {
    window.writes = [];
    for (const id of ${JSON.stringify(ids)}.concat("objects")) {
      const el = document.getElementById(id);
      // The rows: only a reading of the whole list again, not a row changed in place.
      const watch = id === "objects" ? el.querySelector("tbody") : el;
      const write = () => window.writes.push(id + ": " + el.textContent.trim().slice(0, 40));
      new MutationObserver(write).observe(watch, { childList: true, characterData: true, subtree: id !== "objects" });
    }
  })()`);

const writes = async (page: Page) => (await page.evaluate("window.writes")) as string[];

test("a live update that reads the list again does not write its unchanged count again", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui");
  await synced(page);
  await record(page, ["list-status"]);
  // worker-2 wakes; its start's confirmation, 20 s on, reads the list again (the row's state).
  await server.services.governor.postFacts("worker-2", { queue: { depth: 3 } });
  await server.services.advance(20_000);
  await expect.poll(async () => (await writes(page)).some((w) => w.startsWith("objects:"))).toBe(true);
  await settled(page);
  expect((await writes(page)).filter((w) => w.startsWith("list-status:"))).toEqual([]);
});

test("a dropped stream says Reconnecting once, then Live, and the list's count is not written again", async () => {
  const server = await ui.start();
  await seed(server.services);
  const page = await ui.open("/ui");
  await synced(page);
  await record(page, ["list-status", "live"]);
  server.drop();
  await synced(page, 2);
  expect((await writes(page)).filter((w) => !w.startsWith("objects:"))).toEqual(["live: Reconnecting…", "live: Live"]);
});
