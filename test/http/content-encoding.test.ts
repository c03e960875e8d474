// A request body is accepted only as sent, with no content coding: nothing undoes one, so a
// gzip body was refused as "not valid UTF-8" and a plain body declared `br` was applied. Any
// Content-Encoding but identity is a 415 problem with `Accept-Encoding: identity`, before
// anything changes, on both doors: the fast path (facts, PUT) and the hono routes. Real sockets,
// as main.ts serves: the fast path, then hono.

import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { httpServer } from "../../src/http/node-server.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import { rawRequest, type RawReply } from "../helpers/raw-http.ts";
import { RULES_DIR, type TestServices } from "../helpers/services.ts";
import { doors } from "./harness.ts";

let services: TestServices;
let server: Server;
let port = 0;
/** Requests the fast path answered. */
let fast = 0;
beforeAll(async () => {
  const d = await doors([], 64 * 1024);
  services = d.services;
  server = httpServer((req, res) => {
    if (d.fast(req, res)) fast++;
    else void d.hono(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  await services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await services.close();
});

const json = "application/json";
const facts = JSON.stringify({ facts: { queue: { depth: 3 } } });

function send(method: string, path: string, body: string | Buffer, headers: Record<string, string>) {
  return rawRequest(port, { method, path, body, headers: { "content-type": json, ...headers } });
}

function expectRefused(reply: RawReply, coding: string): void {
  expect(reply.status).toBe(415);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.headers["accept-encoding"]).toBe("identity");
  const problem = JSON.parse(reply.text);
  expect(problem).toMatchObject({ type: `${PROBLEM_BASE}unsupported-media-type`, status: 415 });
  expect(problem.detail).toContain("Content-Encoding: identity");
  expect(problem.detail).toContain(JSON.stringify(coding));
}

const memoryVersion = async () => (await services.governor.getObject("w1"))!.memoryVersion;

describe("the fast path", () => {
  test.each([
    ["a gzip body declared gzip", gzipSync(facts), "gzip"],
    ["a plain body declared br", facts, "br"],
    ["a plain body declared identity, then gzip", facts, "identity, gzip"],
  ])("facts: %s is a 415, and nothing is applied", async (_label, body, coding) => {
    const version = await memoryVersion();
    const before = fast;
    expectRefused(await send("POST", "/v1/objects/w1/facts", body, { "content-encoding": coding }), coding);
    expect(fast - before).toBe(1);
    expect(await memoryVersion()).toBe(version);
  });

  test("PUT: a plain body declared deflate is a 415, and no object is created", async () => {
    const before = fast;
    const body = JSON.stringify({ policy: "queue-worker" });
    expectRefused(await send("PUT", "/v1/objects/w2", body, { "content-encoding": "deflate" }), "deflate");
    expect(fast - before).toBe(1);
    expect(await services.governor.getObject("w2")).toBeNull();
  });

  test("identity, in any case, is as no Content-Encoding: the facts are applied", async () => {
    const version = await memoryVersion();
    const reply = await send("POST", "/v1/objects/w1/facts", facts, { "content-encoding": "Identity" });
    expect(reply.status).toBe(200);
    expect(await memoryVersion()).toBe(version + 1);
  });
});

describe("the hono routes", () => {
  const candidate = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8"));
  test.each([
    ["a batch of facts", "POST", "/v1/facts", { items: [{ objectId: "w1", facts: { tick: 1 } }] }, json],
    ["a dry run", "POST", "/v1/objects/w1/evaluate", { facts: { tick: 1 } }, json],
    ["a replay", "POST", "/v1/objects/w1/replay", { policy: candidate }, json],
    ["a policy to validate", "POST", "/v1/policies/validate", candidate, json],
    [
      "a CloudEvent",
      "POST",
      "/v1/cloudevents",
      { specversion: "1.0", id: "e1", source: "/q", type: "t", subject: "w1", data: { tick: 1 } },
      "application/cloudevents+json",
    ],
  ])("%s declared br is a 415, and nothing is applied", async (_label, method, path, body, type) => {
    const version = await memoryVersion();
    const reply = await send(method, path, JSON.stringify(body), { "content-type": type, "content-encoding": "br" });
    expectRefused(reply, "br");
    expect(await memoryVersion()).toBe(version);
  });

  test("facts hono answers (a header sent twice) are refused there too", async () => {
    const version = await memoryVersion();
    const before = fast;
    const reply = await rawRequest(port, {
      method: "POST",
      path: "/v1/objects/w1/facts",
      body: gzipSync(facts),
      headers: { "content-type": json, "content-encoding": ["gzip", "gzip"] },
    });
    expectRefused(reply, "gzip, gzip");
    expect(fast).toBe(before);
    expect(await memoryVersion()).toBe(version);
  });
});
