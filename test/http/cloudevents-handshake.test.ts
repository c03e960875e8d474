// The abuse-protection handshake of CloudEvents' HTTP webhook spec (section 4), which Azure Event
// Grid sends before it delivers events: OPTIONS /v1/cloudevents with WebHook-Request-Origin is
// answered with consent (WebHook-Allowed-Origin, WebHook-Allowed-Rate), without a token; the
// deliveries themselves still need one. It used to be a 405, and such a sender delivered nothing.

import { afterEach, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const TOKENS = [{ name: "ingest", token: "0123456789abcdef-ingest", scopes: ["write:facts" as const] }];

test("the handshake consents to the origin asked with, at any rate, without a token", async () => {
  h = await setup({ tokens: TOKENS });
  const reply = await h.call("OPTIONS", "/v1/cloudevents", {
    headers: { "webhook-request-origin": "eventgrid.azure.net", "webhook-request-rate": "120" },
  });
  expect(reply.status).toBe(200);
  expect(reply.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  expect(reply.headers.get("webhook-allowed-rate")).toBe("*");
  expect(reply.headers.get("allow")).toBe("OPTIONS, POST");
  // The deliveries still need a token with write:facts.
  const post = await h.call("POST", "/v1/cloudevents", {
    raw: "{}",
    headers: { "content-type": "application/cloudevents+json" },
  });
  expect(post.status).toBe(401);
});

test("without WebHook-Request-Origin it is a plain OPTIONS: the methods allowed, no consent", async () => {
  h = await setup();
  const reply = await h.call("OPTIONS", "/v1/cloudevents");
  expect(reply.status).toBe(200);
  expect(reply.headers.get("allow")).toBe("OPTIONS, POST");
  expect(reply.headers.get("webhook-allowed-origin")).toBeNull();
});

test.each(["a b", "x;y", "ev il.example", "", "a".repeat(64) + ".example"])(
  "an origin that is not a DNS name (%j) is a 400 problem, and is not echoed",
  async (origin) => {
    h = await setup();
    const reply = await h.call("OPTIONS", "/v1/cloudevents", { headers: { "webhook-request-origin": origin } });
    expect(reply.status).toBe(400);
    expect(reply.headers.get("content-type")).toBe("application/problem+json");
    expect(reply.body.detail).toMatch(/WebHook-Request-Origin/);
    expect(reply.headers.get("webhook-allowed-origin")).toBeNull();
  },
);

test.each(["*", "eventemitter.example.com", "*.example.com", "localhost:8080", "host."])(
  "origin %j is consented to",
  async (origin) => {
    h = await setup();
    const reply = await h.call("OPTIONS", "/v1/cloudevents", { headers: { "webhook-request-origin": origin } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("webhook-allowed-origin")).toBe(origin);
  },
);

test("the document describes the handshake, with no token asked for", async () => {
  h = await setup();
  const doc = (await h.call("GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
  };
  const options = doc.paths["/v1/cloudevents"]!.options!;
  expect(options.security).toEqual([]);
  expect(Object.keys(options.responses)).toEqual(expect.arrayContaining(["200", "400"]));
});
