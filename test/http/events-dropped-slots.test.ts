// README (Following decisions live): "At most VIGIL_MAX_STREAMS streams are open at once". A
// stream dropped with `overflow` keeps its connection until its client reads that event, or is
// cut off 15 s later: it is still open, and counts against the bound until then. (It left the
// hub's streams when dropped, and the next request found a free slot while it was still open.)
// Real sockets, as main.ts serves.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { eventHub, FINAL_WRITE_MS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** The status line and head of a GET /v1/events, read as they come (a stream's body never ends). */
function streamHead(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => c.write("GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    let text = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      text += d;
      if (!text.includes("\r\n\r\n")) return;
      c.destroy();
      resolve(text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase());
    });
    c.on("error", reject);
  });
}

/** A server with room for one stream, and a client on it that reads its first line and no more. */
async function oneStreamStuck() {
  const services = await makeServices({ tokens: [] });
  const app = createApp({
    governor: services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens: [],
    maxStreams: 1,
  });
  const hono = honoListener(app, () => {}, true);
  const responses: ServerResponse[] = [];
  const server: Server = httpServer((req: IncomingMessage, res: ServerResponse) => {
    responses.push(res);
    void hono(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const client = net.connect(port, "127.0.0.1");
  cleanup.push(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await services.close();
  });
  let head = "";
  await new Promise<void>((resolve) => {
    client.on("connect", () => client.write("GET /v1/events?types=decision HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    const onData = (b: Buffer) => {
      head += b.toString();
      if (!head.includes(": connected")) return;
      client.off("data", onData);
      client.pause();
      resolve();
    };
    client.on("data", onData);
  });
  const g = services.governor;
  await g.putObject("w", { policy: "queue-worker", memory: { pad: "x".repeat(4000) } });
  return { services, g, port, hub: eventHub(g), stuck: responses[0]! };
}

test("a stream dropped with overflow holds its slot until its connection is cut", async () => {
  const { services, g, port, hub, stuck } = await oneStreamStuck();
  for (let i = 0; hub.size > 0 && i < 200_000; i++) await g.postFacts("w", { n: i });
  expect(hub.size, "the stream was dropped").toBe(0);
  expect(stuck.closed, "its connection is still open, waiting for the client to read `overflow`").toBe(false);
  const refused = await streamHead(port);
  expect(refused).toMatch(/^http\/1\.1 503 /);
  expect(refused).toContain("content-type: application/problem+json");
  expect(refused).toContain("retry-after: 5");
  // Cut off 15 s (of the server's clock) later: the slot is free again.
  await services.advance(FINAL_WRITE_MS + 1);
  await expect.poll(() => stuck.closed).toBe(true);
  expect(await streamHead(port)).toMatch(/^http\/1\.1 200 /);
});
