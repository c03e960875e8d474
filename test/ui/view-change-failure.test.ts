// A view chosen on the objects page (Apply, Next page, Back) whose read fails (a 503 while the
// server restarts, no reply at all) says why above the page and is read again until the server
// answers, as the page's first reads are, in chromium. The failure went unhandled: the page kept
// the old list under the new filters and URL, and said nothing.

import type { Page, Route } from "playwright-core";
import { expect, test } from "vitest";
import { ids, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

/** Fails the page's next `n` reads of the list with `fail`; lets the others through. */
async function failNext(page: Page, n: number, fail: (route: Route) => Promise<void>) {
  let seen = 0;
  await page.route(
    (url) => url.pathname === "/v1/objects",
    (route) => (++seen <= n ? fail(route) : route.continue()),
  );
}

const restarting = (route: Route) =>
  route.fulfill({
    status: 503,
    contentType: "application/problem+json",
    body: JSON.stringify({ status: 503, title: "Service Unavailable", detail: "the server is shutting down" }),
  });

test("Apply whose read gets a 503 says why, and the filtered list comes once the server answers", async () => {
  const server = await ui.start();
  for (const id of ["r-1", "w-1"]) await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" });
  await server.call("PUT", "/v1/objects/d-1", { policy: "on-demand" });
  const page = await ui.open("/ui");
  await synced(page);
  await expect.poll(() => ids(page)).toEqual(["d-1", "r-1", "w-1"]);
  await failNext(page, 1, restarting);
  await page.getByLabel("Policy").selectOption("on-demand");
  await page.getByRole("button", { name: "Apply" }).click();
  const alert = page.locator("#load-error");
  await alert.getByText("The server could not be read (503: the server is shutting down)").waitFor();
  expect(await alert.getAttribute("role")).toBe("alert");
  await expect.poll(() => ids(page)).toEqual(["d-1"]);
  expect(await alert.isHidden()).toBe(true);
});

test("Next page and Back whose reads get no reply say so, and show the page asked for once it answers", async () => {
  const server = await ui.start();
  for (const id of ["w-1", "w-2", "w-3"]) await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" });
  const page = await ui.open("/ui?limit=2");
  await synced(page);
  await expect.poll(() => ids(page)).toEqual(["w-1", "w-2"]);
  const alert = page.locator("#load-error");
  await failNext(page, 1, (route) => route.abort("connectionrefused"));
  await page.getByRole("button", { name: "Next page" }).click();
  await alert.getByText("The server could not be read (the server did not answer)").waitFor();
  await expect.poll(() => ids(page)).toEqual(["w-3"]);
  expect(await alert.isHidden()).toBe(true);

  await page.unrouteAll();
  await failNext(page, 1, (route) => route.abort("connectionrefused"));
  await page.goBack();
  await alert.getByText("The server could not be read (the server did not answer)").waitFor();
  await expect.poll(() => ids(page)).toEqual(["w-1", "w-2"]);
  expect(await alert.isHidden()).toBe(true);
});
