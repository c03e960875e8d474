// A page whose first reads fail for another reason than a token (a 503 while the server shuts
// down or starts, no reply at all) says so above the page and reads itself again until the
// server answers, in chromium. It showed an empty frame, saying nothing, until reloaded by hand.

import type { Page, Route } from "playwright-core";
import { expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import { rowOf, SIMULATED, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** Fails the page's first `n` requests whose path is `path` with `fail`; lets the others through. */
async function failFirst(page: Page, path: string, n: number, fail: (route: Route) => Promise<void>) {
  let seen = 0;
  await page.route(
    (url) => url.pathname === path,
    (route) => (++seen <= n ? fail(route) : route.continue()),
  );
}

const shuttingDown = (route: Route) =>
  route.fulfill({
    status: 503,
    contentType: "application/problem+json",
    headers: { "retry-after": "1" },
    body: JSON.stringify({ status: 503, title: "Service Unavailable", detail: "the server is shutting down" }),
  });

test("the objects list read refused with a 503 says why, and the list comes once the server answers", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.page();
  await failFirst(page, "/v1/objects", 1, shuttingDown);
  await page.goto(`${server.url}/ui`);
  const alert = page.locator("#load-error");
  await alert.getByText("The server could not be read (503: the server is shutting down)").waitFor();
  expect(await alert.getAttribute("role")).toBe("alert");
  // Read again after the Retry-After: the list, the stream, and the message gone.
  await synced(page);
  await rowOf(page, "w-1").waitFor();
  expect(await alert.isHidden()).toBe(true);
});

test("an object page whose server does not answer at first says so, and shows the object once it does", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.page();
  await failFirst(page, "/v1/objects/w-1", 2, (route) => route.abort("connectionrefused"));
  await page.goto(`${server.url}/ui/objects/w-1`);
  const alert = page.locator("#load-error");
  await alert.getByText("The server could not be read (the server did not answer)").waitFor();
  await synced(page);
  await page.locator("#state-badge .badge").waitFor();
  expect(await alert.isHidden()).toBe(true);
});

test("a 503 and then a server asking for a token: the sign-in form, and the message about the 503 gone", async () => {
  const read = "0123456789abcdef-reader";
  const tokens: TokenConfig[] = [{ name: "reader", token: read, scopes: ["read"] }];
  const server = await ui.start({ tokens });
  const page = await ui.page();
  await failFirst(page, "/v1/objects", 1, shuttingDown);
  await page.goto(`${server.url}/ui`);
  await page.locator("#load-error").getByText("503: the server is shutting down").waitFor();
  await page.getByLabel("Read token").waitFor();
  expect(await page.locator("#load-error").isHidden()).toBe(true);
});
