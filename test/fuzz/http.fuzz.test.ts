// Property-based fuzzing of the HTTP API, in process: random methods, paths, ids, query strings,
// headers and bodies, and random policy documents sent to validate, evaluate and replay. For
// every request the server answers below 500; afterwards no promise was left rejected, the
// server still answers /healthz, and a valid fact still commits.
//
// Seeded and bounded so that `npm test` stays fast. VIGIL_FUZZ=<runs> runs longer (and
// VIGIL_FUZZ_SEED=<n> picks another seed), e.g. `VIGIL_FUZZ=5000 npx vitest run test/fuzz`.

import { getRequestListener } from "@hono/node-server";
import fc from "fast-check";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { setup, TOKEN_CONFIG, TOKENS, type Harness } from "../http/harness.ts";

const RUNS = Number(process.env.VIGIL_FUZZ ?? 150);
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261130);
const TIMEOUT = Math.max(60_000, RUNS * 400);

let h: Harness;
/** The same app behind a real socket, with the fast path in front of it as main.ts serves it. */
let server: http.Server;
let port = 0;
const rejections: unknown[] = [];
const onRejection = (e: unknown) => rejections.push(e);
const reported: unknown[] = [];

beforeAll(async () => {
  process.on("unhandledRejection", onRejection);
  h = await setup({ tokens: TOKEN_CONFIG, onInternalError: (e) => reported.push(e) });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
  const fast = factsFastPath({
    governor: h.services.governor,
    policies: h.services.policies,
    tokens: TOKEN_CONFIG,
    bodyLimitBytes: 64 * 1024,
    report: (e) => reported.push(e),
  });
  const hono = getRequestListener(h.app.fetch);
  server = http.createServer((req, res) => {
    if (!fast(req, res)) void hono(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  process.off("unhandledRejection", onRejection);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h.close();
});

/** One raw request over the socket; resolves with the status (599 when the socket failed). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    // On the wire a path is ASCII: anything else is sent percent-encoded, as a client would.
    const wire = path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
    const req = http.request({ host: "127.0.0.1", port, method, path: wire, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 599, text }));
    });
    req.on("error", (e) => resolve({ status: 599, text: String(e) }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---- generators ----------------------------------------------------------------------------

const weird = fc.constantFrom(
  "",
  "w1",
  "a".repeat(300),
  "..",
  "%2e%2e",
  "%00",
  "%ZZ",
  "x%2Fy",
  "ü",
  "🙂",
  '$["\\x"]',
  "__proto__",
  "constructor",
  "-",
  "a.b",
);
const id = fc.oneof(
  weird,
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
const path = fc.oneof(
  id.map((i) => `/v1/objects/${i}`),
  id.map((i) => `/v1/objects/${i}/facts`),
  id.map((i) => `/v1/objects/${i}/decisions`),
  id.map((i) => `/v1/objects/${i}/evaluate`),
  id.map((i) => `/v1/objects/${i}/replay`),
  id.map((i) => `/v1/decisions/${i}`),
  id.map((i) => `/v1/policies/${i}`),
  fc.constantFrom(
    "/v1/objects",
    "/v1/facts",
    "/v1/policies",
    "/v1/policies/validate",
    "/healthz",
    "/readyz",
    "/",
    "/v1",
  ),
);
const query = fc.oneof(
  fc.constant(""),
  fc
    .array(
      fc.tuple(
        fc.constantFrom("limit", "cursor", "before", "state", "policy", "compute", "x", "limit[]"),
        fc.oneof(
          fc.constantFrom(
            "1",
            "0",
            "-1",
            "500",
            "501",
            "1e400",
            "99999999999999999999",
            "NaN",
            "",
            "active",
            "keep",
            "stop",
            "%",
          ),
          fc.string({ maxLength: 30 }).map(encodeURIComponent),
        ),
      ),
      { maxLength: 4 },
    )
    .map((kv) => "?" + kv.map(([k, v]) => `${k}=${v}`).join("&")),
);
const token = fc.constantFrom(undefined, TOKENS.read, TOKENS.facts, TOKENS.objects, TOKENS.admin, "nope", "");
const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
);
const json = fc.jsonValue({ maxDepth: 4 });
const body = fc.oneof(
  json.map((v) => JSON.stringify(v)),
  fc.record({ facts: json }).map((v) => JSON.stringify(v)),
  fc.record({ policy: fc.constantFrom("queue-worker", "nope", 1, null), memory: json }).map((v) => JSON.stringify(v)),
  fc
    .record({ items: fc.array(fc.record({ objectId: id, facts: json }), { maxLength: 5 }) })
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    "{",
    "[",
    '{"facts":',
    "\u0000",
    '{"facts":{"a":1e400}}',
    '{"facts":{"__proto__":{"x":1}}}',
    "nul",
    '{"facts":{"a":' + "[".repeat(5000) + "]".repeat(5000) + "}}",
  ),
);
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  path,
  query,
  token,
  contentType,
  idempotencyKey: fc.option(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom("k1", "k 1", "ü")), {
    nil: undefined,
  }),
  prefer: fc.option(fc.constantFrom("return=minimal", "return=representation", "nonsense", ""), { nil: undefined }),
  body: fc.option(body, { nil: undefined }),
});

// Policy documents: mostly well-formed rule sets with random conditions, so that the
// validator, the compiler and the evaluator all get exercised, not only the first zod check.
const operator = fc.oneof(
  fc.constantFrom(
    "equal",
    "notEqual",
    "greaterThan",
    "lessThan",
    "in",
    "notIn",
    "contains",
    "doesNotContain",
    "greaterThanInclusive",
  ),
  fc.constantFrom(
    "not:equal",
    "everyFact:greaterThan",
    "someValue:equal",
    "not:not:not:not:not:not:equal",
    "bogus",
    "",
    "x".repeat(300),
  ),
);
const jsonPath = fc.oneof(
  fc.constantFrom(
    "$.queue.depth",
    "$.jobs.inflight",
    "$",
    "$.a[0]",
    '$["a b"]',
    '$["\\x"]',
    "$..a",
    "$[",
    "queue",
    "$.a.b.c.d.e.f",
  ),
  fc.string({ maxLength: 20 }),
);
const leaf = fc.record({
  fact: fc.constantFrom("memory", "state", "trigger", "now", "bogus"),
  path: jsonPath,
  operator,
  value: json,
});
const condition: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie("node"), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie("node"), { maxLength: 3 }) }),
    fc.record({ not: tie("node") }),
    fc.record({ condition: fc.constantFrom("c0", "c1", "missing") }),
  ),
})).node;
const policyDocument = fc.record({
  name: fc.constantFrom("fuzz", "", "queue-worker", "x".repeat(100)),
  version: fc.constantFrom("1", ""),
  conditions: fc.option(fc.record({ c0: condition, c1: condition }), { nil: undefined }),
  schedules: fc.option(
    fc.array(
      fc.record({
        name: fc.constantFrom("s", "t"),
        cron: fc.constantFrom("* * * * *", "*/5 * * * * *", "0 9 * * 1-5", "nonsense", "* * * * * * *"),
        tz: fc.option(fc.constantFrom("UTC", "Europe/Berlin", "Mars/Olympus"), { nil: undefined }),
      }),
      { maxLength: 2 },
    ),
    { nil: undefined },
  ),
  rules: fc.array(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 10 }),
      conditions: fc.oneof(
        fc.record({ all: fc.array(condition, { maxLength: 3 }) }),
        fc.record({ any: fc.array(condition, { maxLength: 3 }) }),
        condition,
      ),
      event: fc.oneof(
        fc.record({
          type: fc.constantFrom("wake", "hold-active", "dormancy", "nope"),
          params: fc.option(json, { nil: undefined }),
        }),
        json,
      ),
    }),
    { maxLength: 4 },
  ),
});

// ---- the properties ------------------------------------------------------------------------

async function stillServing(): Promise<void> {
  expect((await h.call("GET", "/healthz")).status).toBe(200);
  const ok = await h.call("POST", "/v1/objects/w1/facts", {
    json: { facts: { fuzz: Date.now() } },
    token: TOKENS.facts,
  });
  expect(ok.status).toBe(200);
  expect(rejections).toEqual([]);
  expect(reported).toEqual([]);
}

describe("fuzzing the HTTP API in process", () => {
  test(
    "random requests: never a 5xx",
    async () => {
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers: Record<string, string> = {};
          if (r.contentType !== undefined) headers["content-type"] = r.contentType;
          if (r.idempotencyKey !== undefined) headers["idempotency-key"] = r.idempotencyKey;
          if (r.prefer !== undefined) headers.prefer = r.prefer;
          const reply = await h
            .call(r.method, r.path + r.query, {
              headers,
              ...(r.token !== undefined ? { token: r.token } : {}),
              ...(r.body !== undefined && r.method !== "GET" && r.method !== "HEAD" ? { raw: r.body } : {}),
            })
            .catch((e: unknown) => ({ status: 599, text: String(e) }));
          if (reply.status >= 500)
            throw new Error(`${r.method} ${r.path}${r.query} answered ${reply.status}: ${reply.text}`);
        }),
        { numRuns: RUNS * 4, seed: SEED },
      );
      await stillServing();
    },
    TIMEOUT,
  );

  test(
    "random requests over a socket, through the fast path: never a 5xx",
    async () => {
      const hot = fc.record({
        method: fc.constantFrom("POST", "PUT", "POST", "GET"),
        path: fc.oneof(
          id.map((i) => `/v1/objects/${i}/facts`),
          id.map((i) => `/v1/objects/${i}`),
        ),
        query,
        token,
        contentType,
        idempotencyKey: request.map((r) => r.idempotencyKey),
        body: fc.option(body, { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(hot, async (r) => {
          const headers: Record<string, string> = {};
          if (r.contentType !== undefined) headers["content-type"] = r.contentType;
          if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
          // Header values must be valid on the wire; the client refuses others before sending.
          if (r.idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(r.idempotencyKey))
            headers["idempotency-key"] = r.idempotencyKey;
          const reply = await send(r.method, r.path + r.query, headers, r.method === "GET" ? undefined : r.body);
          if (reply.status >= 500)
            throw new Error(`${r.method} ${r.path}${r.query} answered ${reply.status}: ${reply.text}`);
        }),
        { numRuns: RUNS * 2, seed: SEED },
      );
      await stillServing();
    },
    TIMEOUT,
  );

  test(
    "random policy documents to validate, evaluate and replay: never a 5xx",
    async () => {
      await fc.assert(
        fc.asyncProperty(policyDocument, fc.constantFrom("validate", "evaluate", "replay"), async (doc, where) => {
          const reply =
            where === "validate"
              ? await h.call("POST", "/v1/policies/validate", { json: doc, token: TOKENS.read })
              : await h.call("POST", `/v1/objects/w1/${where}`, {
                  json: where === "evaluate" ? { policy: doc, facts: { queue: { depth: 1 } } } : { policy: doc },
                  token: TOKENS.read,
                });
          if (reply.status >= 500) throw new Error(`${where} answered ${reply.status}: ${reply.text}`);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      await stillServing();
    },
    TIMEOUT,
  );
});
