// Last-Event-ID and WebHook-Request-Origin sent twice arrive joined (`a, b`: Node joins a
// repeated header with ", ") and are refused: the problem says the header came more than once,
// rather than that it must be an event id or a DNS name (each one sent was). Sent once, a bad
// value is still told the rule. Real HTTP, each header field on the wire.

import { afterEach, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>> | null = null;
afterEach(async () => {
  await served?.close();
  served = null;
});

test("Last-Event-ID sent twice is a 422 saying so", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "GET",
    path: "/v1/events",
    headers: { "last-event-id": ["dec_0000000000000", "dec_0000000000001"] },
  });
  expect(reply.status).toBe(422);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(JSON.parse(reply.text).errors).toEqual([
    {
      path: "$.headers.Last-Event-ID",
      message:
        'sent more than once (the ids arrive joined as "dec_0000000000000, dec_0000000000001"): send one id, the last event\'s',
    },
  ]);
});

test("a bad Last-Event-ID sent once is still told what an event id is", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "GET",
    path: "/v1/events",
    headers: { "last-event-id": "dec_0000000000000, x" },
  });
  expect(reply.status).toBe(422);
  expect(JSON.parse(reply.text).errors[0].message).toMatch(/^must be the id of an event this server sent/);
});

test("WebHook-Request-Origin sent twice is a 400 saying so, and nothing is consented to", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "OPTIONS",
    path: "/v1/cloudevents",
    headers: { "webhook-request-origin": ["eventgrid.azure.net", "other.example"] },
  });
  expect(reply.status).toBe(400);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.headers["webhook-allowed-origin"]).toBeUndefined();
  expect(JSON.parse(reply.text).detail).toBe(
    'WebHook-Request-Origin was sent more than once (the origins arrive joined as "eventgrid.azure.net, other.example"): send one origin',
  );
});

// Without tokens, an Origin that is not loopback is a 403; two loopback origins joined were
// called "not a loopback origin" too. Still a 403, saying why. Through the fast path (a PUT of
// an object) and through hono (a GET).
test.each([true, false])("with the fast path %s: Origin sent twice is a 403 saying so", async (fast) => {
  served = await servedDoors([], 1 << 20, fast);
  const origin = `http://127.0.0.1:${served.port}`;
  for (const [method, path, body] of [
    ["PUT", "/v1/objects/w9", '{"policy":"queue-worker"}'],
    ["GET", "/v1/objects", undefined],
  ] as const) {
    const reply = await rawRequest(served.port, {
      method,
      path,
      headers: { origin: [origin, origin], ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body } : {}),
    });
    expect(reply.status, `${method} ${path}`).toBe(403);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(reply.text).detail).toBe(
      `the Origin header was sent more than once (the origins arrive joined as "${origin}, ${origin}"): send one`,
    );
  }
  expect(await served.services.governor.getObject("w9")).toBeNull();
});

// One field holding ", " was sent once: it is told the header's rule, not that it came more than
// once (as for Idempotency-Key, idempotency-key-twice.test.ts). Each header as one field on the wire.
test("one Last-Event-ID field holding two ids is told what an event id is", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "GET",
    path: "/v1/events",
    headers: { "last-event-id": "dec_0000000000000, dec_0000000000001" },
  });
  expect(reply.status).toBe(422);
  expect(JSON.parse(reply.text).errors[0].message).toMatch(/^must be the id of an event this server sent/);
});

test("one WebHook-Request-Origin field holding two names is told what an origin is", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "OPTIONS",
    path: "/v1/cloudevents",
    headers: { "webhook-request-origin": "eventgrid.azure.net, other.example" },
  });
  expect(reply.status).toBe(400);
  expect(reply.headers["webhook-allowed-origin"]).toBeUndefined();
  expect(JSON.parse(reply.text).detail).toBe(
    "WebHook-Request-Origin must be a DNS name (such as eventemitter.example.com), or *",
  );
});

test.each([true, false])(
  "with the fast path %s: one Origin field holding two origins is not loopback",
  async (fast) => {
    served = await servedDoors([], 1 << 20, fast);
    const origin = `http://127.0.0.1:${served.port}`;
    for (const [method, path, body] of [
      ["PUT", "/v1/objects/w9", '{"policy":"queue-worker"}'],
      ["GET", "/v1/objects", undefined],
      ["GET", "/v1/decisions/%2e%2e", undefined],
    ] as const) {
      const reply = await rawRequest(served.port, {
        method,
        path,
        headers: { origin: `${origin}, ${origin}`, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body } : {}),
      });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(reply.text).detail).toMatch(/^the origin ".*" is not a loopback origin; /);
    }
    expect(await served.services.governor.getObject("w9")).toBeNull();
  },
);

// Two fields were sent more than once whatever each held (README: "one sent twice is a 422 that
// says so"): one of them empty or bad was told the joined value broke the header's rule, as if
// sent once ("the origin \"http://127.0.0.1, http://evil.example\" is not a loopback origin").
test("Last-Event-ID sent twice, one of them empty or bad, is a 422 saying so", async () => {
  served = await servedDoors([], 1 << 20);
  for (const second of ["", "x"]) {
    const reply = await rawRequest(served.port, {
      method: "GET",
      path: "/v1/events",
      headers: { "last-event-id": ["dec_0000000000000", second] },
    });
    expect(reply.status).toBe(422);
    expect(JSON.parse(reply.text).errors[0].message).toMatch(
      /^sent more than once \(the ids arrive joined as "dec_0000000000000,.*"\): send one id, the last event's$/,
    );
  }
});

test("WebHook-Request-Origin sent twice, one of them bad, is a 400 saying so", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "OPTIONS",
    path: "/v1/cloudevents",
    headers: { "webhook-request-origin": ["eventgrid.azure.net", "not a name"] },
  });
  expect(reply.status).toBe(400);
  expect(reply.headers["webhook-allowed-origin"]).toBeUndefined();
  expect(JSON.parse(reply.text).detail).toMatch(/^WebHook-Request-Origin was sent more than once /);
});

test.each([true, false])(
  "with the fast path %s: Origin sent twice, one of them not loopback, is a 403 saying so",
  async (fast) => {
    served = await servedDoors([], 1 << 20, fast);
    const origin = `http://127.0.0.1:${served.port}`;
    for (const [method, path, body] of [
      ["PUT", "/v1/objects/w9", '{"policy":"queue-worker"}'],
      ["GET", "/v1/objects", undefined],
      ["GET", "/v1/decisions/%2e%2e", undefined],
    ] as const) {
      const reply = await rawRequest(served.port, {
        method,
        path,
        headers: {
          origin: [origin, "http://evil.example"],
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body } : {}),
      });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(reply.text).detail).toBe(
        `the Origin header was sent more than once (the origins arrive joined as "${origin}, http://evil.example"): send one`,
      );
    }
    expect(await served.services.governor.getObject("w9")).toBeNull();
  },
);
