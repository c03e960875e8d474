// The values of a substrate config's `env` are secrets: every route that returns an object
// shows them only to tokens with `write:objects` (or `admin`); other tokens see the keys with
// "***". Without tokens (loopback development) everything is visible. Both doors of PUT and of
// facts (the fast path and the hono app) answer alike.

import { getRequestListener } from "@hono/node-server";
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { RULES_DIR, START } from "../helpers/services.ts";
import { TOKEN_CONFIG, TOKENS } from "./harness.ts";

/** The tokens of the harness, and some holding several scopes. */
const MORE = {
  readObjects: "read-objects-token-0123456789",
  readFacts: "read-facts-token-0123456789",
  all: "all-but-admin-token-0123456789",
};
const TOKENS_MORE: TokenConfig[] = [
  ...TOKEN_CONFIG,
  { name: "reader-deployer", token: MORE.readObjects, scopes: ["read", "write:objects"] },
  { name: "reader-ingest", token: MORE.readFacts, scopes: ["read", "write:facts"] },
  { name: "all", token: MORE.all, scopes: ["read", "write:facts", "write:objects"] },
];

const ENV = { API_KEY: "s3cr3t", MODE: "fast" };
const HIDDEN = { API_KEY: "***", MODE: "***" };
// nightly-report does not wake on creation or on these facts: nothing is spawned.
const input = {
  policy: "nightly-report",
  substrate: { driver: "process", config: { command: "sleep", args: ["60"], env: ENV } },
};

interface Site {
  /** A request through the hono app (app.request) or through a socket served as main.ts serves. */
  call(method: string, path: string, token?: string, json?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const sites: Site[] = [];
afterEach(async () => {
  for (const s of sites.splice(0)) await s.close();
});

async function site(tokens: TokenConfig[], door: "hono" | "fast"): Promise<Site> {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const governor = new Governor({
    store,
    policies,
    clock,
    drivers: [new SimulatedDriver({ clock }), new ProcessDriver({ clock })],
  });
  await governor.start();
  await governor.putObject("o1", input);
  const app = createApp({ governor, policies, whatIf: new WhatIf(store, (id) => governor.getObject(id)), tokens });
  let server: Server | null = null;
  let base = "";
  if (door === "fast") {
    const fast = factsFastPath({ governor, policies, tokens, bodyLimitBytes: 1 << 20, report: () => {} });
    const hono = getRequestListener(app.fetch);
    server = http.createServer((req, res) => {
      if (!fast(req, res)) void hono(req, res);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const s: Site = {
    async call(method, path, token, json) {
      const init = {
        method,
        headers: {
          ...(json !== undefined ? { "content-type": "application/json" } : {}),
          ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      };
      const res = server ? await fetch(`${base}${path}`, init) : await app.request(path, init);
      return { status: res.status, body: await res.json() };
    },
    async close() {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await governor.close();
    },
  };
  sites.push(s);
  return s;
}

const envOf = (object: any) => object.substrate.config.env;

describe.each(["hono", "fast"] as const)("env values through the %s door", (door) => {
  test.each([
    ["read", HIDDEN, TOKENS.read],
    ["read+write:facts", HIDDEN, MORE.readFacts],
    ["read+write:objects", ENV, MORE.readObjects],
    ["admin", ENV, TOKENS.admin],
  ])("GET of an object and of the list: a %s token sees %j", async (_scope, expected, token) => {
    const s = await site(TOKENS_MORE, door);
    const one = await s.call("GET", "/v1/objects/o1", token);
    expect(one.status).toBe(200);
    expect(envOf(one.body)).toEqual(expected);
    // The rest of the config is shown as it is.
    expect(one.body.substrate.config).toMatchObject({ command: "sleep", args: ["60"] });
    const list = await s.call("GET", "/v1/objects", token);
    expect(list.body.items.map(envOf)).toEqual([expected]);
  });

  test.each([
    ["write:facts", HIDDEN, TOKENS.facts],
    ["read+write:facts", HIDDEN, MORE.readFacts],
    ["read+write:facts+write:objects", ENV, MORE.all],
    ["admin", ENV, TOKENS.admin],
  ])("the reply to facts: a %s token sees %j", async (_scope, expected, token) => {
    const s = await site(TOKENS_MORE, door);
    const r = await s.call("POST", "/v1/objects/o1/facts", token, { facts: { other: 1 } });
    expect(r.status).toBe(200);
    expect(envOf(r.body.object)).toEqual(expected);
  });

  test("the reply to PUT shows them (only write:objects and admin may PUT)", async () => {
    const s = await site(TOKEN_CONFIG, door);
    for (const token of [TOKENS.objects, TOKENS.admin]) {
      const r = await s.call("PUT", "/v1/objects/o2", token, input);
      expect(envOf(r.body)).toEqual(ENV);
    }
  });

  test("without tokens everything is visible", async () => {
    const s = await site([], door);
    expect(envOf((await s.call("GET", "/v1/objects/o1")).body)).toEqual(ENV);
    expect(envOf((await s.call("GET", "/v1/objects")).body.items[0])).toEqual(ENV);
    expect(
      envOf((await s.call("POST", "/v1/objects/o1/facts", undefined, { facts: { other: 1 } })).body.object),
    ).toEqual(ENV);
    expect(envOf((await s.call("PUT", "/v1/objects/o2", undefined, input)).body)).toEqual(ENV);
  });
});

test("a config without env, or with an env that is not an object, is shown as it is", async () => {
  const s = await site(TOKEN_CONFIG, "hono");
  await s.call("PUT", "/v1/objects/s1", TOKENS.admin, {
    policy: "nightly-report",
    substrate: { driver: "simulated", config: { startMs: 5 } },
  });
  expect((await s.call("GET", "/v1/objects/s1", TOKENS.read)).body.substrate.config).toEqual({ startMs: 5 });
});
