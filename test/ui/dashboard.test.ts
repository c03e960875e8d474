// The dashboard in a real headless Chromium against a real server over a socket: the objects
// list with its filters, an object's timeline and an explanation, live updates from the event
// stream, the keyboard, and the token prompt. Each step waits for the DOM with playwright's
// waiting APIs (no fixed sleeps); time on the server is a virtual clock the test moves.
// Screenshots of each page go to .test-results/screenshots/.

import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { TOKEN_CONFIG, TOKENS } from "../http/harness.ts";
import { rowOf, screenshot, seed, startServer, uiSuite, type UiServer } from "./browser.ts";

const ui = uiSuite();
const open = ui.open;
let server: UiServer | undefined;

async function post(id: string, facts: unknown, token?: string) {
  const r = await server!.call("POST", `/v1/objects/${id}/facts`, { facts }, token);
  expect(r.status).toBe(200);
  return r.body;
}

/** A server with the seeded hour (browser.ts `seed`). */
async function seeded(opts: Parameters<typeof startServer>[0] = {}): Promise<UiServer> {
  server = await ui.start(opts);
  await seed(server.services);
  return server;
}

describe("the objects page", () => {
  test("lists the objects with state, policy and since when, and filters them by state", async () => {
    await seeded();
    const page = await open("/ui");
    const row = rowOf(page, "worker-1");
    await row.waitFor();
    await expect.poll(() => page.locator("#objects tbody tr").count()).toBe(3);
    expect(await row.locator(".badge").textContent()).toBe("active");
    // The state since 00:37:20 (the start's confirmation), 7 min 40 s before the server's now.
    expect(await row.locator("td").nth(1).textContent()).toMatch(/^7 min 4\d s ago$/);
    expect(await row.textContent()).toContain("queue-worker v1");
    await screenshot(page, "objects");

    await page.getByLabel("State").selectOption("dormant");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/state=dormant/);
    await expect.poll(() => page.locator("#objects tbody tr").count()).toBe(2);
    expect(await rowOf(page, "worker-1").count()).toBe(0);
    await page.getByLabel("Policy").selectOption("on-demand");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator("#objects tbody tr").count()).toBe(1);
    expect(await rowOf(page, "reports-1").count()).toBe(1);
  });

  test("pages with the API's cursor", async () => {
    await seeded();
    const page = await open("/ui?limit=2");
    await rowOf(page, "worker-1").waitFor();
    expect(await page.locator("#objects tbody tr th").allTextContents()).toEqual(["reports-1", "worker-1"]);
    await page.getByRole("button", { name: "Next page" }).click();
    await rowOf(page, "worker-2").waitFor();
    expect(await page.locator("#objects tbody tr th").allTextContents()).toEqual(["worker-2"]);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "First page" }).click();
    await rowOf(page, "reports-1").waitFor();
  });

  test("follows the event stream: a fact posted meanwhile changes its object's row", async () => {
    await seeded();
    const page = await open("/ui");
    await rowOf(page, "worker-2").waitFor();
    await page.locator("#live[data-status=live]").waitFor();
    await post("worker-2", { queue: { depth: 1 } });
    await rowOf(page, "worker-2").locator(".badge", { hasText: "waking" }).waitFor();
    // The driver's confirmation moves the object without a decision; its action event says so.
    await server!.services.advance(30_000);
    await rowOf(page, "worker-2").locator(".badge", { hasText: "active" }).waitFor();
    // A new object shows up on the page it belongs to.
    await server!.call("PUT", "/v1/objects/worker-3", { policy: "queue-worker" });
    await rowOf(page, "worker-3").waitFor();
  });

  test("a filter chosen and not yet applied stays when a live update reads the page again", async () => {
    await seeded();
    const page = await open("/ui");
    await rowOf(page, "worker-2").waitFor();
    await page.locator("#live[data-status=live]").waitFor();
    await page.getByLabel("State").selectOption("dormant");
    await page.getByLabel("Policy").selectOption("on-demand");
    // A start's confirmation of an object shown reads the page again.
    await post("worker-2", { queue: { depth: 1 } });
    await server!.services.advance(30_000);
    await rowOf(page, "worker-2").locator(".badge", { hasText: "active" }).waitFor();
    expect(await page.getByLabel("State").inputValue()).toBe("dormant");
    expect(await page.getByLabel("Policy").inputValue()).toBe("on-demand");
    expect(page.url()).not.toContain("state=");
  });
});

describe("an object's page", () => {
  test("draws the timeline from the decisions and the confirmations, and explains a decision", async () => {
    await seeded();
    const page = await open("/ui/objects/worker-1");
    const chart = page.locator("#timeline-chart svg");
    await page.locator("#decision-rows tr").first().waitFor();
    const bands = () => chart.locator(".seg title").allTextContents();
    // The waking bands end at the driver's confirmations, 20 s after each wake (not at the next
    // decision), and the sleeping band 15 s after the dormancy decision.
    await expect
      .poll(bands, { timeout: 10_000 })
      .toEqual([
        "dormant for 5 min, from 00:00:00",
        "waking for 20 s, from 00:05:00",
        "active for 20 min 40 s, from 00:05:20",
        "sleeping for 15 s, from 00:26:00",
        "dormant for 10 min 45 s, from 00:26:15",
        "waking for 20 s, from 00:37:00",
        expect.stringMatching(/^active for 7 min 4\d s, from 00:37:20$/),
      ]);
    const decisions = await server!.call("GET", "/v1/objects/worker-1/decisions?limit=500");
    expect(await chart.locator("a.mark").count()).toBe(decisions.body.items.length);

    // A decision's mark is a link: reached by the keyboard, Enter opens its explanation.
    const wake = chart.locator("a.mark.o-wake").first();
    await wake.focus();
    await page.keyboard.press("Enter");
    const explanation = page.locator("#explanation-body");
    const fired = explanation.locator("li.rule.fired", { hasText: "backlog-wake" });
    await fired.waitFor();
    expect(await fired.locator(".cond:not(.group)").textContent()).toBe(
      "✓ true memory $.queue.depth greaterThan 0 — value was 3",
    );
    expect(await explanation.locator("li.rule.not-fired").allTextContents()).toEqual([
      expect.stringContaining("job-in-flight"),
      expect.stringContaining("idle"),
    ]);
    expect(await explanation.locator(".summary-text").textContent()).toMatch(/wake/i);
    const id = decisions.body.items.find(
      (d: { outcome: string; at: string }) => d.outcome === "wake" && d.at.includes("00:05"),
    ).id;
    expect(await page.locator(`#d-${id}`).getAttribute("class")).toBe("selected");
    expect(await wake.getAttribute("class")).toContain("selected");

    // The list's Explain buttons do the same.
    const dormancy = page.locator("#decision-rows tr", { hasText: "dormancy" });
    await dormancy.getByRole("button", { name: /Explain/ }).click();
    await explanation.locator("li.rule.fired", { hasText: "idle" }).waitFor();
    expect(await explanation.locator("li.rule.fired .cond .result").allTextContents()).toEqual([
      "✓ true",
      "✓ true",
      "✓ true",
      "✓ true",
    ]);
    expect(await page.locator("#memory-json").textContent()).toContain('"depth": 2');
    expect(await page.locator("#usage-body").textContent()).toContain("2 wakes, 6 state changes");
    await screenshot(page, "object");
  });

  test("follows the event stream: a fact posted meanwhile shows up in state, decisions and memory", async () => {
    await seeded();
    const page = await open("/ui/objects/worker-2");
    await page.locator("#live[data-status=live]").waitFor();
    expect(await page.locator("#state-badge").textContent()).toBe("dormant");
    const rows = await page.locator("#decision-rows tr").count();
    await post("worker-2", { queue: { depth: 7 } });
    await page.locator("#memory-json", { hasText: '"depth": 7' }).waitFor();
    await page.locator("#state-badge .badge", { hasText: "waking" }).waitFor();
    await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(rows + 1);
    expect(await page.locator("#decision-rows tr").first().textContent()).toContain("wake");
    await server!.services.advance(30_000);
    await page.locator("#state-badge .badge", { hasText: "active" }).waitFor();
    await page.locator("#timeline-chart .seg.s-active").waitFor();
    await screenshot(page, "object-live");
  });

  test("says so when the object does not exist", async () => {
    server = await ui.start();
    const page = await open("/ui/objects/nothing-here");
    await page.getByText("There is no object with this id").waitFor();
    // Its decisions' table says it has none, as it does once an object is deleted, under a heading
    // naming the time zone: it was left a bare row of headings, "At" without its zone.
    await page.locator("#decision-rows", { hasText: "No decisions recorded." }).waitFor();
    expect(await page.locator("#decision-at").textContent()).toBe("At (UTC)");
  });
});

/** What has the keyboard focus: a control by its id, a link or a button by its name. */
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const e = document.activeElement;
    const tag = e.tagName.toLowerCase();
    return e.matches("input, select") ? tag + "#" + e.id : tag + " " + (e.getAttribute("aria-label") ?? e.textContent.trim());
  })()`);

/** Presses Tab `n` times; where the focus went each time. */
async function tabs(page: Page, n: number): Promise<unknown[]> {
  const stops = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press("Tab");
    stops.push(await focused(page));
  }
  return stops;
}

/** Form controls without a label, buttons and links without a name (none should be). */
const unnamed = (page: Page) =>
  page.evaluate(`[...document.querySelectorAll("input, select, button, a")]
    .filter((e) => e.matches("input, select") ? e.labels.length === 0 : !(e.getAttribute("aria-label") || e.textContent.trim()))
    .map((e) => e.outerHTML)`);

describe("the keyboard and assistive technology", () => {
  test("every control has a label or a name, and Tab goes through the page in reading order", async () => {
    await seeded();
    const list = await open("/ui");
    await rowOf(list, "worker-1").waitFor();
    expect(await unnamed(list)).toEqual([]);
    expect(await list.locator("h1").allTextContents()).toEqual(["Objects"]);
    expect(await tabs(list, 10)).toEqual([
      "a Skip to content",
      "a Vigil",
      "a Objects",
      "a API reference",
      "select#f-state",
      "select#f-policy",
      "select#f-limit",
      "button Apply",
      "a reports-1",
      "a worker-1",
    ]);
    await list.keyboard.press("Enter");
    await list.waitForURL(/\/ui\/objects\/worker-1$/);

    // The object page: the crumb, the picture, then the decisions on the timeline.
    await list.locator("#timeline-chart a.mark").first().waitFor();
    expect(await unnamed(list)).toEqual([]);
    const stops = await tabs(list, 8);
    expect(stops.slice(0, 6)).toEqual([
      "a Skip to content",
      "a Vigil",
      "a Objects",
      "a API reference",
      "a Objects",
      "a Open as picture",
    ]);
    // The timeline's marks are one stop, the newest (the arrow keys go along them), then the list.
    expect(stops.slice(6)).toEqual([
      "a Decision at 00:37:00: facts, wake, dormant to waking",
      "button Explain the decision at 00:37:00: facts, wake",
    ]);
  });
});

describe("with tokens", () => {
  test("asks for a read token, keeps it for the tab, and sends it on every read", async () => {
    await seeded({ tokens: TOKEN_CONFIG });
    const page = await open("/ui");
    const input = page.getByLabel("Read token");
    await input.waitFor();
    expect(await page.locator("#main").isHidden()).toBe(true);
    await screenshot(page, "sign-in");

    await input.fill("not-a-token-0123456789");
    await page.getByRole("button", { name: "Use token" }).click();
    await page.getByText("That token is not valid here").waitFor();
    await input.fill(TOKENS.facts);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.getByText("does not hold the read scope").waitFor();

    const sent: (string | undefined)[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/v1/")) sent.push(r.headers().authorization);
    });
    await input.fill(TOKENS.read);
    await page.getByRole("button", { name: "Use token" }).click();
    await rowOf(page, "worker-1").waitFor();
    await page.locator("#live[data-status=live]").waitFor();
    expect(await page.locator("#auth").isHidden()).toBe(true);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent)).toEqual(new Set([`Bearer ${TOKENS.read}`]));
    expect(await page.evaluate('sessionStorage.getItem("vigil.read-token")')).toBe(TOKENS.read);

    // The tab keeps it across pages; live events come with it.
    await page.getByRole("link", { name: "worker-2", exact: true }).click();
    await page.locator("#live[data-status=live]").waitFor();
    await post("worker-2", { queue: { depth: 4 } }, TOKENS.facts);
    await page.locator("#state-badge .badge", { hasText: "waking" }).waitFor();

    // "Open as picture" reads the picture with the token.
    const popup = page.waitForEvent("popup");
    await page.getByRole("link", { name: "Open as picture" }).click();
    const picture = await popup;
    await picture.waitForLoadState();
    expect(picture.url()).toMatch(/^blob:/);
    expect(await picture.locator("svg").getAttribute("aria-label")).toContain("worker-2");
    // Chromium shows an XML error instead of a picture that is not well-formed.
    expect(await picture.locator("parsererror").count()).toBe(0);

    // Forgetting it, or another tab, asks again.
    await page.getByRole("button", { name: "Forget token" }).click();
    await page.getByLabel("Read token").waitFor();
    const other = await open("/ui");
    await other.getByLabel("Read token").waitFor();
  });
});
