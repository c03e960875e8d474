// The dashboard: what its rows show of a policy and of timers, a state filter gaining an object
// by a confirmation, and what changed while the stream was down (a deletion too), checked
// against the API.

import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { cells, holdNext, ids, rowOf, settled, SIMULATED, synced, uiSuite, type UiServer } from "./browser.ts";

const ui = uiSuite();
const open = ui.open;
let server: UiServer | undefined;

/**
 * Once the page follows the stream and has read itself again (what changes after that reaches it
 * only by the stream, or by its read after reconnecting), the stream drops; it retries.
 */
async function dropStream(page: Page, s: UiServer): Promise<void> {
  await synced(page);
  s.drop();
  await page.locator("#live[data-status=retrying]").waitFor();
}

test("objects page: an object moved to another policy shows its new policy in its row", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker" });
  const page = await open("/ui");
  await rowOf(page, "w-1").waitFor();
  await synced(page); // the page has read itself again once live
  expect((await cells(page, "w-1"))[3]).toBe("queue-worker v1");
  expect((await server.call("PUT", "/v1/objects/w-1", { policy: "on-demand" })).status).toBe(200);
  expect((await server.call("GET", "/v1/objects/w-1")).body.policy.name).toBe("on-demand");
  // The policy-changed decision came over the stream; the row still says queue-worker.
  await expect.poll(async () => (await cells(page, "w-1"))[3]).toBe("on-demand v1");
});

test("objects page: a decision that sets a timer shows it in the row's Next timer", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  await server.services.advance(30_000); // started: active
  const page = await open("/ui");
  await rowOf(page, "w-1").waitFor();
  await synced(page); // the page has read itself again once live
  expect(await cells(page, "w-1")).toEqual([
    "w-1",
    "active",
    expect.any(String),
    "queue-worker v1",
    "simulated · running",
    "—",
  ]);
  const r = await server.call("POST", "/v1/objects/w-1/facts", { facts: { jobs: { inflight: 1 } } });
  expect(r.body.decision.timers).toEqual([expect.objectContaining({ name: "hold", op: "set" })]);
  expect((await server.call("GET", "/v1/objects/w-1")).body.timers).toHaveLength(1);
  // The API has a hold timer due in 1 min; the row's Next timer stays "—".
  await expect.poll(async () => (await cells(page, "w-1"))[5]).toMatch(/^in \d+ s$|^in 1 min$/);
});

test("objects page filtered by state=active: an object that becomes active (its start confirmed) shows up", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui?state=active");
  await page.getByText("No object matches these filters.").waitFor();
  await synced(page); // the page has read itself again once live
  // The page's read after the wake decision (w-1 is waking: not listed) answers before the start
  // is confirmed: only the confirmation's event can bring w-1 in.
  const reread = page.waitForEvent("requestfinished", {
    predicate: (r) => new URL(r.url()).pathname === "/v1/objects",
  });
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  await reread;
  await server.services.advance(30_000); // the simulated start is confirmed: active, with no decision
  const api = await server.call("GET", "/v1/objects?state=active");
  expect(api.body.items.map((o: { id: string }) => o.id)).toEqual(["w-1"]);
  await expect.poll(() => ids(page)).toEqual(["w-1"]);
});

test("objects page: a decision taken while the event stream was down shows up after it reconnects", async () => {
  const s = await ui.start();
  await s.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui");
  await rowOf(page, "w-1").waitFor();
  await dropStream(page, s);
  expect(
    (await s.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } })).body.decision.outcome,
  ).toBe("wake");
  await page.locator("#live[data-status=live]").waitFor();
  expect((await s.call("GET", "/v1/objects/w-1")).body.state).toBe("waking");
  await expect.poll(async () => (await cells(page, "w-1"))[1]).toBe("waking");
});

test("object page: a start confirmed while the event stream was down shows after it reconnects", async () => {
  const { s, page } = await woken();
  await page.locator("#state-badge .badge", { hasText: "waking" }).waitFor();
  await dropStream(page, s);
  await s.services.advance(30_000); // confirmed: active
  expect((await s.call("GET", "/v1/objects/w-1")).body.state).toBe("active");
  await page.locator("#live[data-status=live]").waitFor();
  await expect.poll(() => page.locator("#state-badge").textContent()).toBe("active");
});

/** w-1 woken (its start pending), its page open. */
async function woken(): Promise<{ s: UiServer; page: Page }> {
  const s = await ui.start();
  await s.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  await s.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  return { s, page: await open("/ui/objects/w-1") };
}

/** w-1 woken (its start pending), its page open on the wake's explanation. */
async function wakeExplained(): Promise<{ s: UiServer; page: Page }> {
  const { s, page } = await woken();
  await page
    .locator("#decision-rows tr", { hasText: "wake" })
    .getByRole("button", { name: /Explain/ })
    .click();
  await page.locator("#explanation-body").getByText("start (pending)").waitFor();
  return { s, page };
}

test("object page: an explanation open while the event stream was down shows its action's outcome after it reconnects", async () => {
  const { s, page } = await wakeExplained();
  const explanation = page.locator("#explanation-body");
  await dropStream(page, s);
  await s.services.advance(30_000); // confirmed: active (the action's event is not replayed)
  const wake = (await s.call("GET", "/v1/objects/w-1/decisions")).body.items[0].id;
  expect((await s.call("GET", `/v1/decisions/${wake}`)).body.actions[0].status).toBe("confirmed");
  await page.locator("#live[data-status=live]").waitFor();
  await explanation.getByText("start (confirmed)").waitFor();
});

test("object page: the explanation read again after a reconnection leaves the keyboard focus where it was", async () => {
  const { s, page } = await wakeExplained();
  const create = page.locator("#decision-rows tr", { hasText: "create" }).getByRole("button", { name: /Explain/ });
  await create.focus();
  await dropStream(page, s);
  await s.services.advance(30_000);
  await page.locator("#live[data-status=live]").waitFor();
  await page.locator("#explanation-body").getByText("start (confirmed)").waitFor();
  const focused = 'document.activeElement.tagName + " " + document.activeElement.closest("tr")?.textContent';
  expect(await page.evaluate(focused)).toMatch(/^BUTTON .*create/);
});

test("object page: an explanation read again after its object was deleted leaves the page saying it was deleted", async () => {
  const s = await ui.start();
  await s.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await synced(page); // live: the explanation is read again only after the reconnection
  await page
    .locator("#decision-rows tr", { hasText: "create" })
    .getByRole("button", { name: /Explain/ })
    .click();
  await page.locator("#explanation-body .summary-text").waitFor();
  // The decision's read again after the reconnection (a 404) is handed to the page only after the
  // object's read has found it deleted.
  const { release } = await holdNext(page, (url) => url.pathname.startsWith("/v1/decisions/"));
  await dropStream(page, s);
  expect((await s.call("DELETE", "/v1/objects/w-1?compute=keep")).status).toBe(204);
  await page.locator("#live[data-status=live]").waitFor();
  await page.getByText("There is no object with this id: it was deleted.").waitFor();
  release();
  await settled(page); // the decision's read has answered, and the page has taken its answer
  expect(await page.locator("#explanation-body").textContent()).toBe("The object was deleted.");
});

test("object page: an explanation asked for while the stream was down and read across its return shows the action's outcome", async () => {
  const { s, page } = await woken();
  await page.locator("#decision-rows tr", { hasText: "wake" }).waitFor();
  // The first read of the decision is held until the stream is back; later ones pass.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  await page.route("**/v1/decisions/*", async (route) => {
    const response = await route.fetch();
    if (first) {
      first = false;
      await held;
    }
    await route.fulfill({ response });
  });
  await dropStream(page, s);
  await page
    .locator("#decision-rows tr", { hasText: "wake" })
    .getByRole("button", { name: /Explain/ })
    .click();
  await s.services.advance(30_000); // confirmed while the stream is down
  await page.locator("#live[data-status=live]").waitFor();
  release();
  await page.locator("#explanation-body").getByText("start (confirmed)").waitFor();
});

test("object page: an object deleted while the event stream was down is said to be gone after it reconnects", async () => {
  const s = await ui.start();
  await s.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await dropStream(page, s);
  expect((await s.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  await page.locator("#live[data-status=live]").waitFor();
  await page.getByText("There is no object with this id: it was deleted.").waitFor();
  expect(await page.locator("#summary").textContent()).toBe("");
});

test("object page: an object deleted and created again while the stream was down shows only the new one's decisions", async () => {
  const { s, page } = await woken();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(2);
  await dropStream(page, s);
  expect((await s.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  expect((await s.call("PUT", "/v1/objects/w-1", { policy: "on-demand", substrate: SIMULATED })).status).toBe(201);
  expect((await s.call("GET", "/v1/objects/w-1/decisions")).body.items).toHaveLength(1);
  await page.locator("#live[data-status=live]").waitFor();
  await page.locator("#summary", { hasText: "on-demand" }).waitFor();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(1);
});
