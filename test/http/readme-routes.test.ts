// README's table of HTTP API v1 is where a client looks a route up: it names every route the
// OpenAPI document (and so the app) serves, with its method.

import { readFileSync } from "node:fs";
import { afterEach, beforeEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { makeServices } from "../helpers/services.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

const README = readFileSync("README.md", "utf8");
/** The cells of each row of the table under "## HTTP API v1" (method and path, body, reply, scope). */
const ROWS = (() => {
  const section = README.slice(README.indexOf("\n## HTTP API v1\n"));
  const lines = section.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| method and path"));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith("|"));
  return lines.slice(start + 2, end).map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()));
})();
/** The first column of each row. */
const TABLE = ROWS.map((cells) => cells[1] ?? "");

test("README's API table names every route of the OpenAPI document", async () => {
  const doc = (await h.call("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((method) => method !== "parameters")
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(routes.length).toBeGreaterThan(20);
  const missing = routes.filter(
    (route) => !TABLE.some((cell) => cell.includes(`\`${route}\``) || cell.includes(`\`${route}?`)),
  );
  expect(missing).toEqual([]);
});

/** Each row's routes (`METHOD /path`, its query left out) and the scope it names. */
const SCOPED = ROWS.map((cells) => ({
  routes: [...(cells[1] ?? "").matchAll(/`([A-Z]+) ([^`?]+)[^`]*`/g)].map((m) => ({ method: m[1]!, path: m[2]! })),
  scope: (cells[4] ?? "").replace(/`/g, ""),
}));

/** For each scope, a token without it and the token holding it alone (TOKEN_CONFIG has one a scope). */
const LACKS: Record<string, string> = { read: TOKENS.facts, "write:facts": TOKENS.read, "write:objects": TOKENS.read };
const HOLDS: Record<string, string> = {
  read: TOKENS.read,
  "write:facts": TOKENS.facts,
  "write:objects": TOKENS.objects,
};

test("README's API table names the scope each route needs, as the server checks it", async () => {
  const services = await makeServices({ tokens: TOKEN_CONFIG });
  const metrics = new Metrics(services.governor, { processMetrics: false });
  try {
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: services.tokens,
      metrics,
    });
    // The status and challenge a request gets, its body not read: an event stream's never ends.
    const ask = async (method: string, path: string, token?: string) => {
      const res = await app.request(path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
      await res.body?.cancel();
      return { status: res.status, challenge: res.headers.get("www-authenticate") ?? "" };
    };
    expect(SCOPED.flatMap((row) => row.routes).length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const { routes, scope } of SCOPED)
      for (const { method, path } of routes) {
        const url = path.replace("{id}", "w1").replace("{name}", "queue-worker");
        const route = `${method} ${path} (${scope})`;
        const anonymous = await ask(method, url);
        if (scope === "none") {
          if (anonymous.status === 401 || anonymous.status === 403)
            wrong.push(`${route}: ${anonymous.status} without a token`);
          continue;
        }
        const lacks = LACKS[scope];
        const holds = HOLDS[scope];
        if (lacks === undefined || holds === undefined) {
          wrong.push(`${route}: not a scope`);
          continue;
        }
        if (anonymous.status !== 401) wrong.push(`${route}: ${anonymous.status} without a token`);
        const other = await ask(method, url, lacks);
        if (other.status !== 403 || !other.challenge.includes(`scope="${scope}"`))
          wrong.push(`${route}: ${other.status} ${other.challenge} with a token that lacks it`);
        const holder = await ask(method, url, holds);
        if (holder.status === 401 || holder.status === 403) wrong.push(`${route}: ${holder.status} with its token`);
      }
    expect(wrong).toEqual([]);
  } finally {
    metrics.close();
    await services.close();
  }
});

test("README's API table gives each route's query parameters, the ones the OpenAPI document lists", async () => {
  // GET /v1/events's row named objectId and types, not lastEventId, which the route reads too.
  const doc = (await h.call("GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  const wrong: string[] = [];
  for (const cell of TABLE)
    for (const [, method, path, query] of cell.matchAll(/`([A-Z]+) ([^`?]+)(?:\?([^`]*))?`/g)) {
      const shown = (query ?? "")
        .split("&")
        .filter(Boolean)
        .map((pair) => pair.split("=")[0]!)
        .sort();
      const served = (doc.paths[path!]?.[method!.toLowerCase()]?.parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => p.name)
        .sort();
      if (shown.join() !== served.join()) wrong.push(`${method} ${path}: README ${shown} , served ${served}`);
    }
  expect(wrong).toEqual([]);
});
