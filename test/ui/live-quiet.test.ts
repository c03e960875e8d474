// What the live pages show when nothing is sent: a schedule's tick that decides nothing (a quiet
// tick, re-armed for its next time) sends no event, so a page read its timers again only on a
// decision and showed the due time, past, for good; its usage runs on with the timeline. And an object page under a stream of
// decisions keeps a page's worth of them, not every one since it opened.

import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { rowOf, SIMULATED, uiSuite, type UiServer } from "./browser.ts";

const ui = uiSuite();
let server: UiServer | undefined;

const sweepDue = async (s: UiServer) =>
  ((await s.call("GET", "/v1/objects/cm-1")).body.timers as { name: string; dueAt: string }[]).find(
    (t) => t.name === "sweep",
  )!.dueAt;

/** The pages' own clock: installed before they load, run on by the test. */
async function clocked(path: string): Promise<Page> {
  const page = await ui.page();
  await page.clock.install();
  await page.goto(`${server!.url}${path}`);
  return page;
}

test("a quiet schedule tick: the object page and the list show the timer's next due time, not the past one", async () => {
  server = await ui.start();
  await server!.call("PUT", "/v1/objects/cm-1", { policy: "continuous-monitor", substrate: SIMULATED });
  const first = await sweepDue(server);
  const object = await clocked("/ui/objects/cm-1");
  const list = await clocked("/ui");
  const objectSweep = object.locator("#timer-list time").first();
  const listSweep = rowOf(list, "cm-1").locator("td").last().locator("time");
  await expect.poll(() => objectSweep.getAttribute("datetime")).toBe(first);
  await expect.poll(() => listSweep.getAttribute("datetime")).toBe(first);

  const decisions = (await server!.call("GET", "/v1/objects/cm-1/decisions")).body.items.length;
  await server.services.advance(Date.parse(first) - server.services.clock.now() + 1000);
  const next = await sweepDue(server);
  expect(Date.parse(next)).toBeGreaterThan(Date.parse(first));
  // The tick was quiet: no decision, so no event reached the pages.
  expect((await server!.call("GET", "/v1/objects/cm-1/decisions")).body.items.length).toBe(decisions);

  // Past the first due time, by the pages' clocks: each reads its timers again.
  for (const page of [object, list]) await page.clock.runFor(70_000);
  await expect.poll(() => objectSweep.getAttribute("datetime")).toBe(next);
  await expect.poll(() => listSweep.getAttribute("datetime")).toBe(next);
});

test("with nothing sent, the usage runs on with the timeline, its time counted for the object's state, without a read", async () => {
  // The timeline runs on to now; the usage, read only on an event, said "1 min shown on the
  // timeline" for good while the timeline went on to 11 min and more.
  server = await ui.start();
  // on-demand sets no timer: nothing falls due that would have the page read the object again.
  await server.call("PUT", "/v1/objects/w1", { policy: "on-demand", substrate: SIMULATED });
  await server.call("POST", "/v1/objects/w1/facts", { facts: { work: { pending: 1 } } });
  await server.services.advance(60_000); // started (20 s) and confirmed: active
  const page = await clocked("/ui/objects/w1");
  const usage = page.locator("#usage-body");
  const activeTime = () => usage.locator("tr", { hasText: "active" }).locator("td").first().innerText();
  await expect.poll(() => usage.locator("p").first().innerText()).toBe("1 min shown on the timeline");
  const before = await activeTime();
  const reads: string[] = [];
  page.on("request", (r) => void (r.url().includes("/usage") && reads.push(r.url())));

  await page.clock.runFor(10 * 60_000);
  // The timeline's range, the usage's line and its active time, read at one instant of the page:
  // its clock ticks on in real time too (a timeline and usage drawn every 15 s), and read one by
  // one on a loaded machine they came from different draws.
  const drawn = async () => {
    const d = (await page.evaluate(`({
      range: document.querySelector("#timeline-range").textContent,
      shown: document.querySelector("#usage-body p").textContent,
      active: [...document.querySelectorAll("#usage-body tr")]
        .find((tr) => tr.textContent.includes("active"))
        .querySelector("td").textContent,
    })`)) as { range: string; shown: string; active: string };
    return { ...d, range: /\((.*)\), \d+ decisions?$/.exec(d.range)![1]! };
  };
  await expect.poll(async () => ((d) => d.shown === `${d.range} shown on the timeline`)(await drawn())).toBe(true);
  const { range, active } = await drawn();
  // 11 min by the page's clock, which counts from the server's time at the page's load (a draw
  // or more later, as the page's clock ran on meanwhile).
  expect(seconds(range)).toBeGreaterThanOrEqual(659);
  // Active since 20 s after the start: 40 s of the first minute, and the time since.
  expect(before).toBe("40 s");
  expect(seconds(active)).toBe(seconds(range) - 20);
  // The page reads the usage once more when its stream is live; not every 15 s (40 reads here).
  expect(reads.length).toBeLessThanOrEqual(1);
});

test("an object page following a busy object keeps a page of decisions (200), and offers the older ones", async () => {
  server = await ui.start();
  await server!.call("PUT", "/v1/objects/q-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.open("/ui/objects/q-1");
  await page.locator("#live[data-status=live]").waitFor();
  expect(await page.locator("#older").isHidden()).toBe(true);
  for (let k = 0; k < 210; k++)
    expect((await server!.call("POST", "/v1/objects/q-1/facts", { facts: { k } })).status).toBe(200);
  const newest = (await server!.call("GET", "/v1/objects/q-1/decisions?limit=1")).body.items[0].id as string;
  await page.locator(`#d-${newest}`).waitFor();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(200);
  await page.locator("#older").waitFor();
  // The older ones come back on asking.
  await page.locator("#older").click();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(211);
});

/**
 * An object page showing 200 of q-1's `facts` + 1 decisions, live, whose requests for older
 * decisions wait until `release` is called.
 */
async function olderHeld(facts: number): Promise<{ page: Page; release: () => void }> {
  server = await ui.start();
  await server!.call("PUT", "/v1/objects/q-1", { policy: "queue-worker", substrate: SIMULATED });
  for (let k = 0; k < facts; k++)
    expect((await server!.call("POST", "/v1/objects/q-1/facts", { facts: { k } })).status).toBe(200);
  const page = await ui.open("/ui/objects/q-1");
  await page.locator("#live[data-status=live]").waitFor();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(200);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/decisions\?.*before=/, async (route) => {
    await held;
    await route.continue();
  });
  return { page, release };
}

test("Older while live decisions arrive, and clicked twice, brings back every decision once", async () => {
  // The older page is held on its way while a live decision comes in, and asked for twice.
  const { page, release } = await olderHeld(250);
  await page.locator("#older").click();
  await page.locator("#older").click();
  expect((await server!.call("POST", "/v1/objects/q-1/facts", { facts: { k: 999 } })).status).toBe(200);
  const newest = (await server!.call("GET", "/v1/objects/q-1/decisions?limit=1")).body.items[0].id as string;
  await page.locator(`#d-${newest}`).waitFor();
  release();
  const all: string[] = [];
  for (let before: string | undefined; ;) {
    const items = (
      await server!.call("GET", `/v1/objects/q-1/decisions?limit=200${before ? `&before=${before}` : ""}`)
    ).body.items.map((d: { id: string }) => d.id) as string[];
    all.push(...items);
    if (items.length < 200) break;
    before = items.at(-1);
  }
  expect(all).toHaveLength(252);
  await expect
    .poll(() => page.locator("#decision-rows tr").evaluateAll((rows) => rows.map((r) => r.id.slice(2))))
    .toEqual(all);
  expect(await page.locator("#older").isHidden()).toBe(true);
});

test("live decisions while Older is on its way do not raise the page's cap for good", async () => {
  const { page, release } = await olderHeld(450);
  await page.locator("#older").click();
  for (let k = 0; k < 50; k++)
    expect((await server!.call("POST", "/v1/objects/q-1/facts", { facts: { m: k } })).status).toBe(200);
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(250);
  release();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(450);
  // Two pages asked for: 400 kept as more arrive.
  expect((await server!.call("POST", "/v1/objects/q-1/facts", { facts: { n: 1 } })).status).toBe(200);
  const newest = (await server!.call("GET", "/v1/objects/q-1/decisions?limit=1")).body.items[0].id as string;
  await page.locator(`#d-${newest}`).waitFor();
  await expect.poll(() => page.locator("#decision-rows tr").count()).toBe(400);
}, 120_000);

/** The page's duration text (`10 min 59 s`, `11 min`) in seconds. */
function seconds(text: string): number {
  const m = /^(?:(\d+) min)? ?(?:(\d+) s)?$/.exec(text);
  if (!m || text === "") throw new Error(`not a duration: ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}
