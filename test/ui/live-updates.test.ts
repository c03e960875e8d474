// The dashboard's pages keep up with the event stream: an object that comes to belong on a list
// page shows up (one whose id falls between the previous page's last row and this page's first
// too), one that leaves the page's filter goes, and what happens while a page is still loading,
// before its stream is live, is not lost.

import type { Route } from "playwright-core";
import { expect, test } from "vitest";
import { ids, uiSuite, type UiServer } from "./browser.ts";

const ui = uiSuite();
const open = ui.open;
let server: UiServer | undefined;

test("a new object whose id falls between the previous page and this page's first row shows up on this page", async () => {
  server = await ui.start();
  for (const id of ["a-1", "c-1", "d-1", "e-1"])
    await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" });
  const page = await open("/ui?limit=2");
  await expect.poll(() => ids(page)).toEqual(["a-1", "c-1"]);
  await page.getByRole("button", { name: "Next page" }).click();
  await expect.poll(() => ids(page)).toEqual(["d-1", "e-1"]);
  await page.locator("#live[data-status=live]").waitFor();
  // c-2 sorts after this page's cursor (c-1) and before d-1: GET /v1/objects with this cursor lists it first.
  expect((await server.call("PUT", "/v1/objects/c-2", { policy: "queue-worker" })).status).toBe(201);
  const api = await server.call("GET", `/v1/objects?limit=2&cursor=${Buffer.from("c-1").toString("base64url")}`);
  expect(api.body.items.map((o: { id: string }) => o.id)).toEqual(["c-2", "d-1"]);
  await expect.poll(() => ids(page)).toEqual(["c-2", "d-1"]);
});

test("an object moved to another policy leaves a page filtered by its old policy", async () => {
  server = await ui.start();
  for (const id of ["w-1", "w-2"]) await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" });
  const page = await open("/ui?policy=queue-worker");
  await expect.poll(() => ids(page)).toEqual(["w-1", "w-2"]);
  await page.locator("#live[data-status=live]").waitFor();
  const put = await server.call("PUT", "/v1/objects/w-1", { policy: "on-demand" });
  expect(put.status).toBe(200);
  const api = await server.call("GET", "/v1/objects?policy=queue-worker");
  expect(api.body.items.map((o: { id: string }) => o.id)).toEqual(["w-2"]);
  await expect.poll(() => ids(page)).toEqual(["w-2"]);
});

test("a decision taken after the page read the decisions but before it followed the stream shows up", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker" });
  const page = await ui.page();
  // Hold the page's first usage read: by then it has read the object and its decisions.
  let held: Route | undefined;
  const reached = new Promise<void>((resolve) => {
    void page.route("**/v1/objects/w-1/usage**", (route) => {
      if (held !== undefined) return void route.continue();
      held = route;
      resolve();
    });
  });
  await page.goto(`${server.url}/ui/objects/w-1`);
  await reached;
  expect(await page.locator("#decision-rows tr").count()).toBe(1);
  const posted = await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  expect(posted.body.decision.outcome).toBe("wake");
  await held!.continue();
  await page.locator("#live[data-status=live]").waitFor();
  // The server's history holds two decisions, and the object woke.
  const history = await server.call("GET", "/v1/objects/w-1/decisions");
  expect(history.body.items).toHaveLength(2);
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(2);
  const state = (await server.call("GET", "/v1/objects/w-1")).body.state;
  expect(state).not.toBe("dormant");
  await expect.poll(() => page.locator("#state-badge").textContent()).toBe(state);
});
