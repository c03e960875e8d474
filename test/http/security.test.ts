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
  decisionId = h.services.governor.getObject("w1")!.lastDecisionId!;
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
    const before = h.services.governor.getObject("w1")!.memoryVersion;
    await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { sneaky: true } }, token: TOKENS.read });
    expect(h.services.governor.getObject("w1")!.memoryVersion).toBe(before);
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
    decisionId = open.services.governor.getObject("w1")!.lastDecisionId!;
  });
  afterAll(() => open.close());

  test.each(rows)("%s needs no token", async (_n, route) => {
    await route.prepare?.(open);
    const path = typeof route.path === "string" ? route.path : route.path();
    const reply = await open.call(route.method, path, route.init?.() ?? {});
    expect(reply.status, reply.text).toBe(route.ok);
  });
});
