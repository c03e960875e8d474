// HEAD /v1/events answers as GET would (RFC 9110 9.3.2), Last-Event-ID included: a GET resuming
// from it reads the backlog's first page before the stream begins, so a database that cannot be
// reached is a 503 with Retry-After; the HEAD skipped that read and answered 200. Real sockets,
// the two doors as main.ts serves them, the governor's backlog read failing as a remote database
// that answers 503 does.

import type { Server } from "node:http";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { GovernorApi } from "../../src/governor/services.ts";
import { httpServer } from "../../src/http/node-server.ts";
import { doors, openEvents } from "./harness.ts";

const unreachable = () =>
  Object.assign(new Error("SERVER_ERROR: Server returned HTTP status 503: overloaded"), {
    code: "SERVER_ERROR",
    name: "LibsqlError",
  });

/** The real governor, its backlog read failing. */
const backlogDown = (real: GovernorApi): GovernorApi =>
  new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "decisionsSince") return () => Promise.reject(unreachable());
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });

let server: Server;
let port: number;
let close: () => Promise<void>;
beforeAll(async () => {
  const d = await doors([], 1 << 20, true, backlogDown);
  server = httpServer((req, res) => {
    if (!d.fast(req, res)) void d.hono(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await d.services.close();
  };
});
afterAll(() => close());

function head(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; retryAfter: unknown; type: unknown }>((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", method: "HEAD", path, headers }, (res) => {
      res.resume();
      res.on("end", () =>
        resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"], type: res.headers["content-type"] }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const RESUME = { "last-event-id": "dec_0mx7114b800006bf0336d" };

test("HEAD with Last-Event-ID while the backlog cannot be read: a 503 with Retry-After, as GET", async () => {
  expect((await openEvents(port, "", RESUME)).status).toBe(503);
  const res = await head("/v1/events", RESUME);
  expect(res).toMatchObject({ status: 503, type: "application/problem+json" });
  expect(res.retryAfter).toBeDefined();
  // The query's lastEventId as well.
  expect((await head(`/v1/events?lastEventId=${RESUME["last-event-id"]}`)).status).toBe(503);
});

test("HEAD that reads no backlog is a 200, as GET: no Last-Event-ID, or no decisions among the types", async () => {
  for (const [path, headers] of [
    ["/v1/events", {}],
    ["/v1/events?types=action", RESUME],
  ] as const) {
    expect((await openEvents(port, path.slice("/v1/events".length), headers)).status).toBe(200);
    expect(await head(path, headers)).toMatchObject({ status: 200, type: "text/event-stream" });
  }
});
