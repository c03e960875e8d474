// The dashboard after the event stream refused its token (signing in again follows it anew) or
// asked it to wait (Retry-After), with a 128-character object id (it stays within a laptop's
// width, and a phone's), a timeline redrawn under the keyboard's focus (a mark keeps it), marks of decisions at
// one instant (the mouse reaches each), memory holding
// characters that reorder text, and an object deleted (and created again) while a page shows it,
// in chromium.

import type { Page, Route } from "playwright-core";
import { expect, test } from "vitest";
import type { TokenConfig } from "../../src/http/auth.ts";
import {
  contrast,
  holdNext,
  ids,
  LAPTOP,
  rowOf,
  settled,
  SIMULATED,
  synced,
  uiSuite,
  type UiServer,
} from "./browser.ts";

const READ = "0123456789abcdef-reader";
const FACTS = "0123456789abcdef-ingest";
const TOKENS: TokenConfig[] = [
  { name: "reader", token: READ, scopes: ["read"] },
  { name: "ingest", token: FACTS, scopes: ["write:facts", "write:objects"] },
];

const ui = uiSuite();
const open = ui.open;
let server: UiServer | undefined;

/**
 * Answers the page's first request for the event stream with a problem of `status` and
 * `headers`, and lets later ones through; returns how many it has seen.
 */
async function refuseFirstStream(
  page: Page,
  status: number,
  title: string,
  headers: Record<string, string>,
): Promise<() => number> {
  let streams = 0;
  await page.route("**/v1/events?**", (route: Route) => {
    streams += 1;
    if (streams > 1) return void route.continue();
    return void route.fulfill({
      status,
      contentType: "application/problem+json",
      headers,
      body: JSON.stringify({ status, title }),
    });
  });
  return () => streams;
}

test("after the event stream refuses the token, signing in again follows the stream again", async () => {
  server = await ui.start({ tokens: TOKENS });
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED }, FACTS);
  const page = await ui.page();
  // The first stream is refused (as after the server's tokens were rotated); later ones go through.
  const streams = await refuseFirstStream(page, 401, "Unauthorized", { "www-authenticate": "Bearer" });
  await page.goto(`${server.url}/ui`);
  const input = page.getByLabel("Read token");
  await input.fill(READ);
  await page.getByRole("button", { name: "Use token" }).click();
  // The stream's 401 shows the sign-in form again; the token is given again.
  await expect.poll(streams).toBe(1);
  await input.waitFor();
  await input.fill(READ);
  await page.getByRole("button", { name: "Use token" }).click();
  await rowOf(page, "w-1").waitFor();
  expect(await page.locator("#auth").isHidden()).toBe(true);
  // The page is shown, but it never follows the stream again: still "Not allowed to follow events".
  await expect.poll(streams).toBe(2);
  await page.locator("#live[data-status=live]").waitFor();
});

test("a stream refused with Retry-After (the server's streams limit) is tried again no sooner than it asks", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.page();
  await page.clock.install();
  // The page's (installed, fake) clock at each request for a stream, read in the page as it asks.
  await page.addInitScript(`
    window.asked = [];
    const original = window.fetch.bind(window);
    window.fetch = (input, init) => {
      if (String(input).includes("/v1/events")) window.asked.push(Date.now());
      return original(input, init);
    };
  `);
  const asked = () => page.evaluate<number[]>("window.asked");
  await refuseFirstStream(page, 503, "Service unavailable", { "retry-after": "5" });
  await page.goto(`${server.url}/ui`);
  await page.locator("#live[data-status=retrying]").waitFor();
  await page.clock.runFor(6000);
  await expect.poll(async () => (await asked()).length).toBe(2);
  const [first, second] = await asked();
  // The backoff alone would have tried again after 1 s.
  expect(second! - first!).toBeGreaterThanOrEqual(5000);
  await page.locator("#live[data-status=live]").waitFor();
});

test("a 128-character object id pushes neither the object page nor the list's columns past a laptop screen", async () => {
  server = await ui.start();
  const id = "a".repeat(128);
  expect((await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" })).status).toBe(201);
  const list = await open("/ui");
  await rowOf(list, id).waitFor();
  expect(await list.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(LAPTOP.width);
  // Nor the list's table past its frame: the id wraps, the other columns stay in view.
  const tableScrolls =
    "(() => { const w = document.querySelector('#objects').closest('.table-wrap'); return w.scrollWidth > w.clientWidth; })()";
  expect(await list.evaluate(tableScrolls)).toBe(false);
  const page = await open(`/ui/objects/${id}`);
  await page.locator("#live[data-status=live]").waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(LAPTOP.width);
});

test("at a phone's 390 px, a 128-character object id makes neither page scroll sideways", async () => {
  // The breadcrumb above the heading repeated the id unwrapped: the object page was 1,081 px wide.
  server = await ui.start();
  const id = "a".repeat(128);
  expect((await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" })).status).toBe(201);
  const phone = { width: 390, height: 844 };
  const list = await ui.page();
  await list.setViewportSize(phone);
  await list.goto(`${server.url}/ui`);
  await rowOf(list, id).waitFor();
  expect(await list.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(phone.width);
  const page = await ui.page();
  await page.setViewportSize(phone);
  await page.goto(`${server.url}/ui/objects/${id}`);
  await page.locator("#live[data-status=live]").waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(phone.width);
  // Each state of the legend on one line, its swatch beside its name: squeezed onto one line of
  // items, each swatch sat above its name.
  const legend = (await page.evaluate(`[...document.querySelectorAll(".legend li")].map((li) => {
    const box = li.getBoundingClientRect();
    const swatch = li.querySelector(".swatch").getBoundingClientRect();
    return { state: li.textContent.trim(), oneLine: box.height < 2 * parseFloat(getComputedStyle(li).fontSize), beside: swatch.right < box.right - 10 };
  })`)) as { state: string; oneLine: boolean; beside: boolean }[];
  expect(legend.filter((l) => !l.oneLine || !l.beside)).toEqual([]);
});

// The marks' colours had no legend: a sighted keyboard user (no tooltip) could not tell a wake
// from a hold. The legend's swatch of each outcome is drawn as its marks are. A mark of no outcome
// was filled grey (#6b7280), all but the dormancy's slate (#64748b): it is hollow, its outline
// and every other mark's fill at least 3:1 against the panel, as WCAG asks of graphics.
test("the legend gives each outcome's mark as the timeline draws it, no outcome hollow, each 3:1 on the panel", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await page.locator("#live[data-status=live]").waitFor();
  type Look = { fill: string; stroke: string };
  const { panel, colours } = (await page.evaluate(`(() => {
    const look = (el) => el && { fill: getComputedStyle(el).fill, stroke: getComputedStyle(el).stroke };
    const chart = document.querySelector("#timeline-chart");
    const legend = [...document.querySelectorAll('ul[aria-label="Decisions by outcome"] li')];
    const colours = legend.map((li) => {
      const outcome = [...li.querySelector(".swatch").classList].find((c) => c.startsWith("o-"));
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      const a = document.createElementNS("http://www.w3.org/2000/svg", "a");
      a.setAttribute("class", "mark " + outcome);
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      a.append(path);
      svg.append(a);
      chart.append(svg);
      const drawn = look(path);
      svg.remove();
      return { outcome, label: li.textContent.trim(), swatch: look(li.querySelector(".swatch path")), drawn };
    });
    return { panel: getComputedStyle(chart.closest(".panel")).backgroundColor, colours };
  })()`)) as { panel: string; colours: { outcome: string; label: string; swatch: Look | null; drawn: Look }[] };
  expect(colours.map((c) => c.label)).toEqual(["wake", "hold-active", "dormancy", "no outcome"]);
  // What shows of a mark: its fill, or its outline when it is filled with the panel's colour.
  const seen = colours.map((c) => (c.drawn.fill === panel ? `hollow ${c.drawn.stroke}` : c.drawn.fill));
  expect(seen[3]).toMatch(/^hollow /);
  expect(new Set(seen).size).toBe(4);
  for (const [i, c] of colours.entries())
    expect(contrast(seen[i]!.replace("hollow ", ""), panel), c.outcome).toBeGreaterThanOrEqual(3);
  // The legend's swatch is the same triangle, drawn by the same rules.
  for (const c of colours) expect(c.swatch, c.outcome).toEqual(c.drawn);
});

test("the memory panel, a stop of the keyboard's, is named by its heading", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await page.locator("#live[data-status=live]").waitFor();
  expect(await page.locator("#memory-json").getAttribute("tabindex")).toBe("0");
  const name =
    "document.getElementById(document.getElementById('memory-json').getAttribute('aria-labelledby'))?.textContent ?? null";
  expect(await page.evaluate(name)).toBe("Memory");
});

test("a decision's mark keeps the keyboard focus when a live decision redraws the timeline", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await page.locator("#live[data-status=live]").waitFor();
  const first = page.locator("#timeline-chart a.mark").first();
  await first.focus();
  const focusedDecision = "document.activeElement?.dataset?.decision ?? null";
  const before = await page.evaluate(focusedDecision);
  expect(before).toMatch(/^dec_/);
  // A fact: a decision arrives over the stream and the timeline is drawn again.
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  await page.locator("#timeline-chart a.mark").nth(1).waitFor();
  expect(await page.evaluate(focusedDecision)).toBe(before);
});

test("decisions at one instant share their place on the timeline, and the mouse reaches each", async () => {
  server = await ui.start();
  // Three decisions at the same virtual time: their marks fall on one pixel.
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { jobs: { inflight: 1 } } });
  const page = await open("/ui/objects/w-1");
  const marks = page.locator("#timeline-chart a.mark");
  await marks.nth(2).waitFor();
  const inOrder = await marks.evaluateAll((as) => as.map((a) => a.getAttribute("data-decision")));
  for (const [i, decision] of inOrder.entries()) {
    // Each mark's hit area, clicked where the mouse would be: nothing of another mark covers it.
    await marks.nth(i).locator("rect.hit").click();
    await expect
      .poll(() => page.locator("#timeline-chart a.mark.selected").getAttribute("data-decision"))
      .toBe(decision);
  }
});

test("memory whose strings hold characters that reorder text shows them escaped, as JSON may", async () => {
  server = await ui.start();
  // U+202E (right-to-left override) drew this value backwards, as another key and value.
  const memory = { work: { pending: 5, z: '\u202e,0 :"gnidnep"', mark: "a\u200fb\u2066c\u0085d" } };
  expect((await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", memory })).status).toBe(201);
  const page = await open("/ui/objects/w-1");
  const shown = page.locator("#memory-json", { hasText: "pending" });
  await shown.waitFor();
  const text = (await shown.textContent())!;
  expect(text).not.toMatch(/[\u0085\u200f\u202e\u2066]/);
  expect(text).toContain('"z": "\\u202e,0 :\\"gnidnep\\""');
  expect(JSON.parse(text)).toEqual(memory);
});

test("an object deleted while its page is open is said to be gone there", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await page.locator("#live[data-status=live]").waitFor();
  await page.locator("#decision-rows tr").first().waitFor();
  expect((await server.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  await page.getByText("There is no object with this id: it was deleted").waitFor();
  expect(await page.locator("#decision-rows").textContent()).toBe("No decisions recorded.");
  expect(await page.locator("#summary").textContent()).toBe("");
  expect(await panelTexts(page)).toEqual({ ...ABSENT, explanation: "The object was deleted." });
});

/** What the panels of an object's page say when there is no object: each that there is none. */
const ABSENT = {
  timeline: "No lifecycle to draw: no object has this id.",
  memory: "No memory: no object has this id.",
  timers: "No timer is pending.",
  usage: "No usage: no object has this id.",
};

const panelTexts = async (page: Page) => ({
  timeline: await page.locator("#timeline-chart").textContent(),
  memory: await page.locator("#memory-json").textContent(),
  timers: await page.locator("#timer-list").textContent(),
  usage: await page.locator("#usage-body").textContent(),
  explanation: await page.locator("#explanation-body").textContent(),
});

test("an object deleted while the list shows it leaves the list", async () => {
  server = await ui.start();
  for (const id of ["w-1", "w-2"]) await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker" });
  const page = await open("/ui");
  await expect.poll(() => ids(page)).toEqual(["w-1", "w-2"]);
  await page.locator("#live[data-status=live]").waitFor();
  expect((await server.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  await expect.poll(() => ids(page)).toEqual(["w-2"]);
});

test("an object deleted and created again under the same id shows only the new one's decisions", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 3 } } });
  const page = await open("/ui/objects/w-1");
  await page.locator("#live[data-status=live]").waitFor();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(2);
  expect((await server.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  const explanation = page.locator("#explanation-body");
  await explanation.getByText("The object was deleted.").waitFor();
  expect((await server.call("PUT", "/v1/objects/w-1", { policy: "on-demand", substrate: SIMULATED })).status).toBe(201);
  await page.locator("#summary", { hasText: "on-demand" }).waitFor();
  expect(await page.locator("#decision-rows tr").count()).toBe(1);
  expect(await page.locator("#object-status").textContent()).toBe("");
  expect(await explanation.textContent()).toBe("Choose a decision to see why it was taken.");
  // The new object's timeline is drawn (a mark for its one decision).
  await expect.poll(() => page.locator("#timeline-chart svg").count()).toBe(1);
});

test("a page opened for an id no object has yet shows the object once it is created", async () => {
  server = await ui.start();
  const page = await open("/ui/objects/later");
  await page.getByText("There is no object with this id (it may have been deleted).").waitFor();
  await page.locator("#live[data-status=live]").waitFor();
  // Each panel says there is none: they were empty boxes, and the explanation invited a choice.
  expect(await panelTexts(page)).toEqual({
    ...ABSENT,
    explanation: "No decision to explain: no object has this id.",
  });
  expect((await server.call("PUT", "/v1/objects/later", { policy: "on-demand", substrate: SIMULATED })).status).toBe(
    201,
  );
  await page.locator("#summary", { hasText: "on-demand" }).waitFor();
  await expect.poll(() => page.locator("#decision-rows tr", { hasText: "create" }).count()).toBe(1);
  expect(await page.locator("#object-status").textContent()).toBe("");
  // The object's own, once it is read: none of the panels says there is none.
  await page.locator("#usage-body table").waitFor();
  await page.locator("#timeline-chart svg").waitFor();
  expect(await page.locator("#memory-json").textContent()).toBe("{}");
  expect(await page.locator("#explanation-body").textContent()).toBe("Choose a decision to see why it was taken.");
});

test("a page opened for an id whose object is created while its stream connects lists every decision", async () => {
  server = await ui.start();
  const page = await ui.page();
  let connect = () => {};
  const held = new Promise<void>((resolve) => (connect = resolve));
  await page.route("**/v1/events?*", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${server.url}/ui/objects/later`);
  await page.getByText("There is no object with this id (it may have been deleted).").waitFor();
  // Created before the stream is up (its decision is not replayed); one more decision right after.
  await server.call("PUT", "/v1/objects/later", { policy: "queue-worker", substrate: SIMULATED });
  connect();
  await page.locator("#live[data-status=live]").waitFor();
  await server.call("POST", "/v1/objects/later/facts", { facts: { queue: { depth: 3 } } });
  await page.locator("#summary", { hasText: "queue-worker" }).waitFor();
  const listed = (await server.call("GET", "/v1/objects/later/decisions")).body.items.map((d: { id: string }) => d.id);
  expect(listed).toHaveLength(2);
  await expect
    .poll(() => page.locator("#decision-rows tr").evaluateAll((rows) => rows.map((r) => r.id.slice(2))))
    .toEqual(listed);
});

test("right-to-left keys and values in memory are drawn inside their quotes, each key left of its value", async () => {
  server = await ui.start();
  const memory = { role: "viewer", א: 1, מצב: "פעיל", mixed: "abc אבג 12" };
  expect(
    (await server.call("PUT", "/v1/objects/rtl", { policy: "on-demand", substrate: SIMULATED, memory })).status,
  ).toBe(201);
  const page = await open("/ui/objects/rtl");
  const shown = page.locator("#memory-json", { hasText: "פעיל" });
  await shown.waitFor();
  expect(JSON.parse((await shown.textContent())!)).toEqual(memory);
  // For each line `"key": value`: where the key's first character and the value's are drawn.
  const lefts = (await page.evaluate(`(() => {
    const pre = document.getElementById("memory-json");
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        chars.push({ c: n.data[i], left: r.getBoundingClientRect().left });
      }
    const text = chars.map((x) => x.c).join("");
    const at = (line, part) => chars[text.indexOf(line) + line.indexOf(part)].left;
    return {
      role: [at('"role": "viewer"', "r"), at('"role": "viewer"', "v")],
      alef: [at('"א": 1', "א"), at('"א": 1', "1")],
      state: [at('"מצב": "פעיל"', "מ"), at('"מצב": "פעיל"', "פ")],
      colon: [at('"מצב": "פעיל"', ":"), at('"מצב": "פעיל"', "פ")],
    };
  })()`)) as Record<string, [number, number]>;
  expect(Object.keys(lefts)).toHaveLength(4);
  for (const [key, value] of Object.values(lefts)) expect(key).toBeLessThan(value);
});

test("a read of the object that left before its deletion and answers after it does not bring it back", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await open("/ui/objects/w-1");
  await page.locator("#decision-rows tr").first().waitFor();
  await synced(page); // the read after going live has answered
  // The next read of the object is answered by the server at once, and handed to the page later.
  const { wasFetched, release } = await holdNext(page, (url) => url.pathname === "/v1/objects/w-1");
  await server.call("POST", "/v1/objects/w-1/facts", { facts: { queue: { depth: 1 } } }); // the page reads it again
  await wasFetched;
  expect((await server.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  await page.getByText("There is no object with this id: it was deleted").waitFor();
  release();
  await settled(page); // the held read has answered, and the page has taken its answer
  expect(await page.locator("#object-status").textContent()).toContain("There is no object with this id");
  expect(await page.locator("#summary").textContent()).toBe("");
});

test("an older page of decisions that left before the deletion and answers after it is not listed", async () => {
  server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  for (let i = 0; i < 205; i++) await server.services.governor.postFacts("w-1", { queue: { depth: 0 }, n: i });
  const page = await open("/ui/objects/w-1");
  await page.locator("#older").waitFor({ state: "visible" });
  await synced(page); // the read after going live has answered
  const { wasFetched, release } = await holdNext(
    page,
    (url) => url.pathname === "/v1/objects/w-1/decisions" && url.searchParams.has("before"),
  );
  await page.locator("#older").click();
  await wasFetched;
  expect((await server.call("DELETE", "/v1/objects/w-1")).status).toBe(204);
  await page.getByText("There is no object with this id: it was deleted").waitFor();
  release();
  await settled(page); // the held page has answered, and the page has taken its answer
  expect(await page.locator("#decision-rows").textContent()).toBe("No decisions recorded.");
});
