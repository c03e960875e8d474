// README (Following decisions live): past VIGIL_MAX_STREAMS a request for a stream is a 503 with
// `Retry-After: 5`, and at shutdown one with `Retry-After: 1`. HEAD /v1/events answers as GET
// would (RFC 9110 9.3.2: the same status and headers, no body) and holds no slot: it answered
// 200 while a GET was refused. Real sockets, as main.ts serves.

import { request } from "node:http";
import { afterEach, expect, test } from "vitest";
import { endEventStreams, eventHub } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";
import { streamClient, streamHead, streamServer } from "../helpers/stream-server.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function server() {
  const services = await makeServices({ tokens: [] });
  const { port, close } = await streamServer(services, { maxStreams: 1 });
  cleanup.push(async () => {
    await close();
    await services.close();
  });
  return { services, port, hub: eventHub(services.governor) };
}

/** A HEAD /v1/events: its status, headers and how many bytes of body came. */
function head(port: number): Promise<{ status: number; headers: Record<string, unknown>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", method: "HEAD", path: "/v1/events" }, (res) => {
      let bytes = 0;
      res.on("data", (b: Buffer) => (bytes += b.length));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, bytes }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("HEAD is a 503 with Retry-After while every stream slot is taken, as GET is", async () => {
  const { port, hub } = await server();
  const client = await streamClient(port);
  cleanup.unshift(async () => void client.destroy());
  expect(hub.size).toBe(1);
  const get = await streamHead(port);
  expect(get).toMatch(/^http\/1\.1 503 /);
  const res = await head(port);
  expect(res.status).toBe(503);
  expect(res.headers["retry-after"]).toBe("5");
  expect(res.headers["content-type"]).toBe("application/problem+json");
  expect(res.bytes).toBe(0);
});

test("HEAD with a slot free is a 200 with the stream's headers and takes no slot", async () => {
  const { port, hub } = await server();
  for (let i = 0; i < 3; i++) {
    const res = await head(port);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.bytes).toBe(0);
  }
  expect(hub.size).toBe(0);
  // The one slot is still free for a GET.
  expect(await streamHead(port)).toMatch(/^http\/1\.1 200 /);
});

test("HEAD at shutdown is a 503 with Retry-After: 1, as GET is", async () => {
  const { services, port } = await server();
  endEventStreams(services.governor);
  expect(await streamHead(port)).toMatch(/^http\/1\.1 503 /);
  const res = await head(port);
  expect(res.status).toBe(503);
  expect(res.headers["retry-after"]).toBe("1");
});
