// Who may call what: every route x {no token, wrong token, token without the scope, token
// with only that scope, admin}. Probes need no token. With no tokens configured, auth is off.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Scope } from "../../src/http/auth.ts";
import {
  expectProblem,
  queueWorkerPolicy,
  setup,
  TOKEN_CONFIG,
  TOKENS,
  type Harness,
  type CallInit,
} from "./harness.ts";

interface Route {
  method: string;
  /** A function when the path needs state made in beforeAll (a decision id). */
  path: string | (() => string);
  scope: Scope;
  ok: number;
  init?: () => CallInit;
  /** Runs before the authorised calls, e.g. to create the object a DELETE removes. */
  prepare?: (h: Harness) => Promise<void>;
}

let h: Harness;
let decisionId = "";

const ROUTES: Route[] = [
  { method: "GET", path: "/v1/objects", scope: "read", ok: 200 },
  { method: "GET", path: "/v1/objects/w1", scope: "read", ok: 200 },
  {
    method: "PUT",
    path: "/v1/objects/w1",
    scope: "write:objects",
    ok: 200,
    init: () => ({ json: { policy: "queue-worker" } }),
  },
  {
    method: "DELETE",
    path: "/v1/objects/doomed",
    scope: "write:objects",
    ok: 204,
    prepare: async (x) => void (await x.services.governor.putObject("doomed", { policy: "queue-worker" })),
  },
  {
    method: "POST",
    path: "/v1/objects/w1/facts",
    scope: "write:facts",
    ok: 200,
    init: () => ({ json: { facts: { n: 1 } } }),
  },
  {
    method: "POST",
    path: "/v1/objects/w1/replay",
    scope: "read",
    ok: 200,
    init: () => ({ json: { policy: queueWorkerPolicy() } }),
  },
  {
    method: "POST",
    path: "/v1/facts",
    scope: "write:facts",
    ok: 200,
    init: () => ({ json: { items: [{ objectId: "w1", facts: { n: 2 } }] } }),
  },
  { method: "POST", path: "/v1/objects/w1/evaluate", scope: "read", ok: 200, init: () => ({ json: {} }) },
  { method: "GET", path: "/v1/objects/w1/decisions", scope: "read", ok: 200 },
  { method: "GET", path: () => `/v1/decisions/${decisionId}`, scope: "read", ok: 200 },
  { method: "GET", path: "/v1/policies", scope: "read", ok: 200 },
  { method: "GET", path: "/v1/policies/queue-worker", scope: "read", ok: 200 },
  {
    method: "POST",
    path: "/v1/policies/validate",
    scope: "read",
    ok: 200,
    init: () => ({ json: queueWorkerPolicy() }),
  },
];

/** A token holding every scope but the one a route needs (and not admin). */
const without: Record<Scope, string> = {
  read: "no-read-token-0123456789",
  "write:facts": "no-facts-token-0123456789",
  "write:objects": "no-objects-token-0123456789",
  admin: "",
};
/** A token holding only the scope a route needs. */
const only: Record<Scope, string> = {
  read: TOKENS.read,
  "write:facts": TOKENS.facts,
  "write:objects": TOKENS.objects,
  admin: TOKENS.admin,
};

beforeAll(async () => {
  h = await setup({
    tokens: [
      ...TOKEN_CONFIG,
      { name: "no-read", token: without.read, scopes: ["write:facts", "write:objects"] },
      { name: "no-facts", token: without["write:facts"], scopes: ["read", "write:objects"] },
      { name: "no-objects", token: without["write:objects"], scopes: ["read", "write:facts"] },
    ],
  });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
  decisionId = (await h.services.governor.getObject("w1"))!.lastDecisionId!;
});
afterAll(() => h.close());

const name = (r: Route) => `${r.method} ${typeof r.path === "string" ? r.path : "/v1/decisions/:id"}`;
const rows = ROUTES.map((r) => [name(r), r] as const);
const send = (r: Route, token?: string) =>
  h.call(r.method, typeof r.path === "string" ? r.path : r.path(), {
    ...r.init?.(),
    ...(token !== undefined ? { token } : {}),
  });

describe("protected routes", () => {
  test.each(rows)("%s without a token: 401 with a Bearer challenge", async (_n, route) => {
    const reply = await send(route);
    expectProblem(reply, 401, "unauthorized");
    expect(reply.headers.get("www-authenticate")).toBe('Bearer realm="vigil"');
  });

  test.each(rows)("%s with an unknown token: 401 invalid_token", async (_n, route) => {
    const reply = await send(route, "not-a-configured-token-0123");
    expectProblem(reply, 401, "unauthorized");
    expect(reply.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test.each(rows)("%s with a token lacking the scope: 403", async (_n, route) => {
    const reply = await send(route, without[route.scope]);
    const problem = expectProblem(reply, 403, "forbidden");
    expect(problem.detail).toContain(route.scope);
    expect(reply.headers.get("www-authenticate")).toContain(`scope="${route.scope}"`);
  });

  test.each(rows)("%s with a token holding only its scope: allowed", async (_n, route) => {
    await route.prepare?.(h);
    const reply = await send(route, only[route.scope]);
    expect(reply.status, reply.text).toBe(route.ok);
  });

  test.each(rows)("%s with an admin token: allowed", async (_n, route) => {
    await route.prepare?.(h);
    const reply = await send(route, TOKENS.admin);
    expect(reply.status, reply.text).toBe(route.ok);
  });
});

describe("the Authorization header", () => {
  test.each([
    ["another scheme", `Basic ${Buffer.from(`x:${TOKENS.read}`).toString("base64")}`],
    ["the scheme alone", "Bearer"],
    ["the scheme and a space", "Bearer "],
    ["the token without a scheme", TOKENS.read],
    ["two tokens", `Bearer ${TOKENS.read} ${TOKENS.admin}`],
    ["a token prefix", `Bearer ${TOKENS.read.slice(0, -1)}`],
    ["a token with a suffix", `Bearer ${TOKENS.read}x`],
  ])("%s: 401", async (_label, authorization) => {
    const reply = await h.call("GET", "/v1/objects", { headers: { authorization } });
    expectProblem(reply, 401, "unauthorized");
  });

  test("the scheme is case-insensitive", async () => {
    const reply = await h.call("GET", "/v1/objects", { headers: { authorization: `bearer ${TOKENS.read}` } });
    expect(reply.status).toBe(200);
  });

  test("authentication comes before the body: an anonymous oversized body is a 401, not a 413", async () => {
    const reply = await h.call("POST", "/v1/facts", {
      raw: "x".repeat(2 * 1024 * 1024),
      headers: { "content-type": "application/json" },
    });
    expectProblem(reply, 401, "unauthorized");
  });

  test("a rejected write changes nothing", async () => {
    const before = (await h.services.governor.getObject("w1"))!.memoryVersion;
    await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { sneaky: true } }, token: TOKENS.read });
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(before);
  });
});

describe("probes", () => {
  test.each([
    ["/healthz", undefined],
    ["/healthz", "not-a-configured-token-0123"],
    ["/healthz", TOKENS.facts],
    ["/readyz", undefined],
    ["/readyz", "not-a-configured-token-0123"],
    ["/readyz", TOKENS.facts],
  ])("GET %s with token %s: 200", async (path, token) => {
    const reply = await h.call("GET", path, token === undefined ? {} : { token });
    expect(reply.status).toBe(200);
  });
});

describe("with no tokens configured", () => {
  let open: Harness;
  beforeAll(async () => {
    open = await setup({ tokens: [] });
    await open.services.governor.putObject("w1", { policy: "queue-worker" });
    decisionId = (await open.services.governor.getObject("w1"))!.lastDecisionId!;
  });
  afterAll(() => open.close());

  test.each(rows)("%s needs no token", async (_n, route) => {
    await route.prepare?.(open);
    const path = typeof route.path === "string" ? route.path : route.path();
    const reply = await open.call(route.method, path, route.init?.() ?? {});
    expect(reply.status, reply.text).toBe(route.ok);
  });
});

// DNS rebinding: a page on evil.example whose name re-resolves to 127.0.0.1 makes the victim's
// browser send requests to the loopback socket with `Host: evil.example` (and, for writes, a
// foreign `Origin`). Without tokens only loopback names are served; probes are checked too.
describe("with no tokens configured: loopback hosts and origins only", () => {
  let open: Harness;
  beforeAll(async () => {
    open = await setup({ tokens: [] });
  });
  afterAll(() => open.close());

  test.each([
    "localhost",
    "localhost:8080",
    "LOCALHOST:8080",
    "vigil.localhost",
    "a.b.localhost:3000",
    "127.0.0.1",
    "127.0.0.1:8080",
    "127.1.2.3:9",
    "127.255.255.255:65535",
    "[::1]",
    "[::1]:8080",
  ])("Host: %s is served", async (host) => {
    const reply = await open.call("GET", "/v1/objects", { headers: { host } });
    expect(reply.status, reply.text).toBe(200);
  });

  test.each([
    "evil.example",
    "evil.example:8080",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "localhost.",
    "localhost:",
    "localhost:99999",
    "localhost@evil.example",
    "evil.example/localhost",
    "0.0.0.0:8080",
    "10.0.0.1",
    "192.168.1.10:8080",
    "128.0.0.1",
    "127.0.0.256",
    "[::2]",
    "::1",
    "",
  ])("Host: %j is a 403 naming the host", async (host) => {
    const reply = await open.call("GET", "/v1/objects", { headers: { host } });
    const problem = expectProblem(reply, 403, "forbidden");
    expect(problem.detail).toContain(JSON.stringify(host));
    expect(problem.detail).toContain("use a loopback host name");
    expect(problem.detail).toContain("configure tokens");
  });

  test.each([
    "http://localhost",
    "http://localhost:5173",
    "https://127.0.0.1:8443",
    "http://[::1]:8080",
    "http://app.localhost:3000",
    "HTTP://LOCALHOST",
  ])("Origin: %s is served", async (origin) => {
    const reply = await open.call("GET", "/v1/objects", { headers: { origin } });
    expect(reply.status, reply.text).toBe(200);
  });

  test.each([
    "null",
    "http://evil.example",
    "https://evil.example:443",
    "http://localhost.evil.example",
    "http://127.0.0.1.nip.io:8080",
    "http://localhost@evil.example",
    "http://localhost/",
    "file://",
    "ftp://localhost",
    "localhost",
    "",
  ])("Origin: %j is a 403 naming the origin", async (origin) => {
    const reply = await open.call("GET", "/v1/objects", { headers: { host: "localhost:8080", origin } });
    const problem = expectProblem(reply, 403, "forbidden");
    expect(problem.detail).toContain(JSON.stringify(origin));
    expect(problem.detail).toContain("configure tokens");
  });

  test.each(["/healthz", "/readyz", "/v1/policies", "/no/such/route"])(
    "GET %s with a foreign Host is refused too",
    async (path) => {
      expectProblem(await open.call("GET", path, { headers: { host: "evil.example" } }), 403, "forbidden");
    },
  );

  test("the request URL's host counts when there is no Host header (HTTP/2 :authority)", async () => {
    const res = await open.app.request("http://evil.example:8080/v1/objects");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toContain('"evil.example:8080"');
    expect((await open.app.request("http://127.0.0.1:8080/v1/objects")).status).toBe(200);
  });

  test("a refused write binds nothing", async () => {
    const reply = await open.call("PUT", "/v1/objects/rebound", {
      json: { policy: "queue-worker" },
      headers: { host: "evil.example:8080", origin: "http://evil.example:8080" },
    });
    expectProblem(reply, 403, "forbidden");
    expect(await open.services.governor.getObject("rebound")).toBeFalsy();
  });
});

describe("with tokens configured, Host and Origin are not checked", () => {
  test.each([
    ["a public host name", { host: "vigil.example.com" }],
    ["a public host name and port", { host: "vigil.example.com:8443" }],
    ["a foreign origin", { host: "vigil.example.com", origin: "https://dashboard.example.com" }],
  ])("%s with a valid token: served", async (_label, headers) => {
    const reply = await h.call("GET", "/v1/objects", { headers, token: TOKENS.read });
    expect(reply.status, reply.text).toBe(200);
  });

  test("a public host name without a token: 401, the token decides", async () => {
    expectProblem(await h.call("GET", "/v1/objects", { headers: { host: "vigil.example.com" } }), 401, "unauthorized");
  });
});
