// What the dashboard's browser tests share: Debian's chromium (installed with apt when it is
// missing and the tests run as root), driven by playwright-core; a real server over a socket
// (the governor of test/helpers/services.ts behind createApp, on a virtual clock); a small
// client of its API; and screenshots under .test-results/screenshots/.
//
// The tests wait on what the page shows, with no bound of their own: a locator's waitFor has
// playwright's 30 s, expect.poll the suite's 30 s (vitest.config.ts), both under a test's 60. What
// the browser does in between (a reconnection, a read, drawing what came) takes a few hundred
// milliseconds on a loaded machine, and the 1 s pause before a stream is resumed comes on top.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { chromium, type Browser, type Page, type Route } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createApp } from "../../src/http/app.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { CHROMIUM, ensureDebianProgram } from "../helpers/debian-package.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SCREENSHOTS = join(ROOT, ".test-results", "screenshots");
/** The screen the dashboard is made for: a 1366x768 laptop, less the browser's own bars. */
export const LAPTOP = { width: 1366, height: 768 };

/** Headless chromium. As root its sandbox cannot start, so it runs without one (tests only). */
export async function launchBrowser(): Promise<Browser> {
  ensureDebianProgram(CHROMIUM);
  return chromium.launch({
    executablePath: CHROMIUM.path,
    headless: true,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
}

/**
 * A page at laptop size, in a context of its own (its own sessionStorage: a tab), that adds
 * its script errors and console errors (a CSP violation is one) to `errors`; the browser's time
 * zone is UTC unless `timezoneId` names another.
 */
export async function laptopPage(browser: Browser, errors: string[], timezoneId = "UTC"): Promise<Page> {
  const context = await browser.newContext({ viewport: LAPTOP, locale: "en-GB", timezoneId });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // A refused read (401, 404) is logged by Chromium itself; the page handles those.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
  return page;
}

/** Saves `<name>.png` (the whole page) and `<name>-screen.png` (what a 1366x768 screen shows). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-screen.png`) });
}

const MIN = 60_000;
/** A reader's token and an admin's: pages behind the sign-in form, and the writes that set them up. */
export const READ_TOKEN = "0123456789abcdef-reader";
export const ADMIN_TOKEN = "0123456789abcdef-admin";
export const READER_AND_ADMIN: TokenConfig[] = [
  { name: "reader", token: READ_TOKEN, scopes: ["read"] },
  { name: "ops", token: ADMIN_TOKEN, scopes: ["admin"] },
];

/** Compute that takes a while to start and to suspend, so that waking and sleeping show. */
export const SIMULATED = { driver: "simulated", config: { startMs: 20_000, suspendMs: 15_000 } };

/**
 * Three objects with 45 minutes of history on the virtual clock: worker-1 woke at 00:05
 * (active at 00:05:20), held a job, slept at 00:26 (dormant at 00:26:15), woke again at 00:37
 * (active at 00:37:20); worker-2 and reports-1 rest. The clock ends at 00:45.
 */
export async function seed(services: TestServices): Promise<void> {
  const { governor, advance } = services;
  await governor.putObject("worker-1", { policy: "queue-worker", substrate: SIMULATED });
  await governor.putObject("worker-2", { policy: "queue-worker", substrate: SIMULATED });
  await governor.putObject("reports-1", { policy: "on-demand", substrate: SIMULATED });
  await advance(5 * MIN);
  await governor.postFacts("worker-1", { queue: { depth: 3 } });
  await advance(10 * MIN);
  await governor.postFacts("worker-1", { queue: { depth: 0 }, jobs: { inflight: 1 } });
  await advance(10 * MIN);
  await governor.postFacts("worker-1", { jobs: { inflight: 0 } });
  await advance(12 * MIN);
  await governor.postFacts("worker-1", { queue: { depth: 2 } });
  await advance(8 * MIN);
}

export interface UiServer {
  url: string;
  services: TestServices;
  /** Calls the API over the socket, with a token when given; the JSON body, or the text. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** Cuts every open connection (a network blip, the event streams with it); the server keeps listening. */
  drop(): void;
  close(): Promise<void>;
}

/** A real server on a loopback port: the test governor (virtual clock) behind the hono app. */
export async function startServer(opts: { tokens?: TokenConfig[] } = {}): Promise<UiServer> {
  const services = await makeServices({ tokens: opts.tokens ?? [] });
  const app = createApp({
    governor: services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens: services.tokens,
  });
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({ server: s, port: info.port }),
    );
  });
  const url = `http://127.0.0.1:${port}`;
  const call: UiServer["call"] = async (method, path, body, token) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url + path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = (res.headers.get("content-type") ?? "").includes("json");
    return { status: res.status, body: json && text !== "" ? JSON.parse(text) : text };
  };
  const drop = () => (server as unknown as { closeAllConnections: () => void }).closeAllConnections();
  return {
    url,
    services,
    call,
    drop,
    close: async () => {
      // Event streams stay open until the browser goes; close them with the server.
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    },
  };
}

/**
 * What every dashboard test file sets up the same way: one browser for the file's tests, and for
 * each test the server it starts and the pages it opens, closed after it. A page that logs an
 * error (a script error, a CSP violation) fails its test. Call it once, at the file's top level.
 */
export function uiSuite() {
  let browser: Browser | undefined;
  let server: UiServer | undefined;
  const pages: Page[] = [];
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.context().close();
    await server?.close();
    server = undefined;
    expect(errors.splice(0)).toEqual([]);
  });
  const suite = {
    /** Starts the test's server (closed after the test); `open` goes to it. */
    async start(opts: Parameters<typeof startServer>[0] = {}): Promise<UiServer> {
      server = await startServer(opts);
      return server;
    },
    /** A new laptop-sized tab, closed after the test (in UTC, or the time zone named). */
    async page(timezoneId?: string): Promise<Page> {
      const page = await laptopPage(browser!, errors, timezoneId);
      pages.push(page);
      return page;
    },
    /** A new tab at `path` of the test's server. */
    async open(path: string, timezoneId?: string): Promise<Page> {
      const page = await suite.page(timezoneId);
      await page.goto(server!.url + path);
      return page;
    },
  };
  return suite;
}

/**
 * Waits until the page has read itself again after its event stream came up live for the `n`-th
 * time, with none of its API calls on their way (the marks api.js sets on <body>): what it shows
 * is then what the server had when it went live, and whatever changes after comes to it over the
 * stream (or a read after the next reconnection). A page that never reads itself again fails here.
 */
export const synced = (page: Page, n = 1) =>
  page.locator(`body[data-synced="${n}"][data-reading="0"]`).waitFor({ state: "attached" });

/** Waits until every API call the page has started has answered and its answer was handled. */
export const settled = (page: Page) => page.locator('body[data-reading="0"]').waitFor({ state: "attached" });

/**
 * Holds the page's next request matching `match`: the server answers it at once (`wasFetched`),
 * the page gets the answer only on `release()` (and so do later ones until then).
 */
export async function holdNext(page: Page, match: (url: URL) => boolean) {
  let fetched!: () => void;
  const wasFetched = new Promise<void>((r) => (fetched = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.route(match, async (route: Route) => {
    const response = await route.fetch();
    fetched();
    await released;
    await route.fulfill({ response });
  });
  return { wasFetched, release };
}

/** The objects list's row of `id`. */
export const rowOf = (page: Page, id: string) =>
  page.locator("#objects tbody tr", { has: page.getByRole("link", { name: id, exact: true }) });
/** The texts of the cells of `id`'s row. */
export const cells = async (page: Page, id: string) =>
  (await rowOf(page, id).locator("th, td").allInnerTexts()).map((t) => t.trim());
/** The ids the objects list shows, in order. */
export const ids = (page: Page) => page.locator("#objects tbody tr th").allTextContents();

/** WCAG's contrast ratio of two computed colours (`rgb(r, g, b)`). */
export function contrast(a: string, b: string): number {
  const luminance = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).map(Number).map((v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
