// `/docs` in a real browser. The page loads one script from elsewhere, Scalar's bundle from
// jsDelivr, pinned by version and by its integrity digest. The tests have no internet, only the
// npm registry: the bundle is taken from its npm package (`npm pack`, as the registry npm is set
// to use), and the browser is given it for the CDN's address. So the test holds the pinned digest
// to the real file, shows the page rendering the document under its Content-Security-Policy with
// no other host asked for anything, and shows a changed bundle refused.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SCALAR_INTEGRITY, SCALAR_SCRIPT, SCALAR_VERSION } from "../../src/http/docs-page.ts";
import { laptopPage, launchBrowser, screenshot, startServer, type UiServer } from "./browser.ts";

/** The bundle's bytes, from its npm package. */
function scalarBundle(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "vigil-scalar-"));
  try {
    const pack = spawnSync("npm", ["pack", `@scalar/api-reference@${SCALAR_VERSION}`, "--silent"], {
      cwd: dir,
      encoding: "utf8",
    });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const file = "package/dist/browser/standalone.js";
    const untar = spawnSync("tar", ["xzf", pack.stdout.trim(), file], { cwd: dir, encoding: "utf8" });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    return readFileSync(join(dir, file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let bundle: Buffer;
let browser: Browser;
let server: UiServer;

beforeAll(async () => {
  bundle = scalarBundle();
  browser = await launchBrowser();
  server = await startServer();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** `/docs` with the CDN answered by `body`; every URL the page asked for lands in `asked`. */
async function openDocs(body: Buffer, errors: string[], asked: string[]): Promise<Page> {
  const page = await laptopPage(browser, errors);
  page.on("request", (r) => asked.push(r.url()));
  await page.route(
    (url) => url.protocol === "https:",
    (route) =>
      route.request().url() === SCALAR_SCRIPT
        ? route.fulfill({
            status: 200,
            body,
            headers: { "content-type": "text/javascript", "access-control-allow-origin": "*" },
          })
        : route.abort(),
  );
  await page.goto(`${server.url}/docs`);
  return page;
}

describe("/docs", () => {
  test("pins the bundle npm publishes: its digest is the one the page asks the browser to check", () => {
    const digest = `sha384-${createHash("sha384").update(bundle).digest("base64")}`;
    expect(SCALAR_INTEGRITY).toBe(digest);
  });

  test("renders the API document under its CSP, asking no other host for anything", async () => {
    const errors: string[] = [];
    const asked: string[] = [];
    const page = await openDocs(bundle, errors, asked);
    await page.getByText("Liveness: the process answers").first().waitFor({ timeout: 30_000 });
    expect(await page.locator("h1").first().textContent()).toBe("Vigil");
    // Nothing that sends the document, or its address, to Scalar's servers.
    for (const name of ["Open API Client", "Ask AI", "Generate SDK", "Developer Tools"])
      expect(await page.getByText(name).count(), name).toBe(0);
    await screenshot(page, "docs");
    expect(errors).toEqual([]);
    const elsewhere = asked.filter((u) => !u.startsWith(server.url) && u !== SCALAR_SCRIPT);
    expect(elsewhere).toEqual([]);
    await page.context().close();
  }, 60_000);

  test("refuses a bundle that is not the pinned one", async () => {
    const errors: string[] = [];
    const page = await openDocs(Buffer.concat([bundle, Buffer.from("\n;")]), errors, []);
    // The page's own start-up script ran (its CSP digest is right), found no Scalar, and says so.
    await page.getByRole("alert").waitFor({ timeout: 20_000 });
    expect(errors.join("\n")).toContain("integrity");
    expect(await page.getByRole("alert").textContent()).toContain("could not load Scalar's script");
    await page.context().close();
  }, 60_000);

  // A server on a private network: the browser cannot reach the CDN. The page was left blank.
  test("without the CDN, says the reference could not load and links the document", async () => {
    const errors: string[] = [];
    const page = await laptopPage(browser, errors);
    await page.route(
      (url) => url.protocol === "https:",
      (route) => route.abort(),
    );
    await page.goto(`${server.url}/docs`);
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toContain("cdn.jsdelivr.net");
    expect(await alert.getByRole("link").getAttribute("href")).toBe("/openapi.json");
    expect(errors.join("\n")).not.toContain("Scalar is not defined");
    await page.context().close();
  }, 60_000);
});
