// The dashboard's routes without a browser: the HTML shells (no data, no token, a strict
// content security policy), the static files they load, and the timeline picture with its
// scope, window and the confirmations placed in it.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { ASSET_NAMES } from "../../src/http/ui/assets.ts";
import { expectProblem, setup, TOKEN_CONFIG, TOKENS, type Harness } from "../http/harness.ts";
import { seed } from "./browser.ts";

const ASSETS = fileURLToPath(new URL("../../src/http/ui/assets/", import.meta.url));

let h: Harness;
afterEach(() => h.close());

const get = (path: string, headers: Record<string, string> = {}) => h.app.request(path, { headers });

describe("the pages", () => {
  test.each(["/ui", "/ui/objects/worker-1"])("%s is HTML that holds no data and needs no token", async (path) => {
    h = await setup({ tokens: TOKEN_CONFIG });
    await seed(h.services);
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self';");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // Never stored: a shell kept for Back would carry the time of the first visit.
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html.startsWith('<!doctype html><html lang="en">')).toBe(true);
    // The server's time, for the page to count from; nothing about any object but the path's id.
    expect(html).toContain(`data-now="${h.services.clock.now()}"`);
    expect(html).not.toContain("reports-1");
    expect(html).not.toContain("queue-worker");
    expect(html).toContain('<label for="token">Read token</label>');
  });

  test("an invalid object id is a 422 problem", async () => {
    h = await setup();
    await expectProblem(await h.call("GET", "/ui/objects/a%20b"), 422, "validation");
  });
});

describe("the static files", () => {
  test("are served with their type and an ETag, and 304 when unchanged", async () => {
    h = await setup({ tokens: TOKEN_CONFIG });
    const js = await get("/ui/assets/object.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe(readFileSync(`${ASSETS}object.js`, "utf8"));
    const etag = js.headers.get("etag")!;
    expect((await get("/ui/assets/object.js", { "if-none-match": etag })).status).toBe(304);
    // As RFC 9110 compares: weakly (a compressing proxy's W/), in a list, or `*`; another tag is a 200.
    for (const match of [`W/${etag}`, `"x", ${etag}`, `${etag}, "y"`, "*"])
      expect((await get("/ui/assets/object.js", { "if-none-match": match })).status, match).toBe(304);
    expect((await get("/ui/assets/object.js", { "if-none-match": '"x", W/"y"' })).status).toBe(200);
    expect((await get("/ui/assets/dashboard.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    await expectProblem(await h.call("GET", "/ui/assets/nothing.js"), 404, "not-found");
    await expectProblem(await h.call("GET", "/ui/assets/..%2Fassets.ts"), 404, "not-found");
  });

  test("are every script and style sheet in the folder, and every import between them is one of them", () => {
    const files = readdirSync(ASSETS).filter((f) => /\.(js|css)$/.test(f));
    expect([...files].sort()).toEqual([...ASSET_NAMES].sort());
    for (const f of files.filter((f) => f.endsWith(".js")))
      for (const [, target] of readFileSync(`${ASSETS}${f}`, "utf8").matchAll(/^import .* from "\.\/([^"]+)";$/gm))
        expect(ASSET_NAMES, `${f} imports ${target}`).toContain(target);
  });
});

describe("GET /ui/objects/{id}/timeline.svg", () => {
  test("needs the read scope", async () => {
    h = await setup({ tokens: TOKEN_CONFIG });
    await seed(h.services);
    await expectProblem(await h.call("GET", "/ui/objects/worker-1/timeline.svg"), 401, "unauthorized");
    const facts = await h.call("GET", "/ui/objects/worker-1/timeline.svg", { token: TOKENS.facts });
    await expectProblem(facts, 403, "forbidden");
    const read = await get("/ui/objects/worker-1/timeline.svg", { authorization: `Bearer ${TOKENS.read}` });
    expect(read.status).toBe(200);
  });

  test("draws the window's bands, the confirmations where they came, and the decisions as ticks", async () => {
    h = await setup();
    await seed(h.services);
    const res = await get("/ui/objects/worker-1/timeline.svg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const svg = await res.text();
    // Well-formed enough for a browser's XML parser: no element names an attribute twice.
    for (const [tag] of svg.matchAll(/<[a-z]+\s[^>]*>/g)) {
      const names = [...tag.matchAll(/\s([\w:-]+)=/g)].map((m) => m[1]);
      expect(new Set(names).size, tag).toBe(names.length);
    }
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* role="img" aria-label="worker-1 /);
    const bands = [...svg.matchAll(/<rect [^>]*><title>worker-1: (\w+) (\S+) to (\S+) /g)].map(
      ([, state, from, to]) => `${state} ${from!.slice(11, 19)}-${to!.slice(11, 19)}`,
    );
    // The default window is the object's life up to now (less than 24 hours).
    expect(bands).toEqual([
      "dormant 00:00:00-00:05:00",
      "waking 00:05:00-00:05:20",
      "active 00:05:20-00:26:00",
      "sleeping 00:26:00-00:26:15",
      "dormant 00:26:15-00:37:00",
      "waking 00:37:00-00:37:20",
      "active 00:37:20-00:45:00",
    ]);
    const decisions = (await h.call("GET", "/v1/objects/worker-1/decisions")).body.items;
    expect(svg.match(/<line [^>]*stroke="#111827"[^>]*><title>/g)).toHaveLength(decisions.length);
  });

  test("takes a window, clipped to now; an empty window is a 422, an unknown object a 404", async () => {
    h = await setup();
    await seed(h.services);
    const res = await get("/ui/objects/worker-1/timeline.svg?from=2026-03-01T00:20:00Z&to=2026-03-01T00:30:00Z");
    const svg = await res.text();
    const bands = [...svg.matchAll(/<title>worker-1: (\w+) (\S+) to (\S+) /g)].map(
      ([, state, from, to]) => `${state} ${from!.slice(11, 19)}-${to!.slice(11, 19)}`,
    );
    expect(bands).toEqual(["active 00:20:00-00:26:00", "sleeping 00:26:00-00:26:15", "dormant 00:26:15-00:30:00"]);
    const late = await h.call("GET", "/ui/objects/worker-1/timeline.svg?from=2026-03-02T00:00:00Z");
    await expectProblem(late, 422, "validation");
    expect(late.body.errors).toEqual([{ path: "$.query.from", message: "must be before 2026-03-01T00:45:00.000Z" }]);
    await expectProblem(await h.call("GET", "/ui/objects/worker-1/timeline.svg?to=yesterday"), 422, "validation");
    await expectProblem(await h.call("GET", "/ui/objects/nobody/timeline.svg"), 404, "not-found");
  });

  test.each(["2016-03-01T00:00:00Z", "0000-01-01T00:00:00Z"])(
    "from=%s: however long the window, the axis keeps to a few labels and the picture stays small",
    async (from) => {
      h = await setup();
      await seed(h.services);
      const res = await get(`/ui/objects/worker-1/timeline.svg?from=${from}`);
      expect(res.status).toBe(200);
      const svg = await res.text();
      const labels = [...svg.matchAll(/<text [^>]*fill="#374151">([^<]*)<\/text>/g)].filter((m) => m[1] !== "UTC");
      expect(labels.length).toBeGreaterThanOrEqual(3);
      expect(labels.length).toBeLessThanOrEqual(9);
      expect(svg.length).toBeLessThan(64 * 1024);
    },
  );
});
