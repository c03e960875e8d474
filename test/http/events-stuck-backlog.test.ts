// README (Following decisions live): "A client that falls further behind gets a last `event:
// overflow` and the stream ends ... A client that does not read even that is disconnected after
// 15 s." A client that stops reading while its backlog is sent (types=decision, Last-Event-ID far
// back) was never dropped: the decisions that came meanwhile were left to the backlog, not
// queued, so nothing overflowed, no cut-off started, and it held its VIGIL_MAX_STREAMS slot for
// as long as it kept the connection. Real sockets, as main.ts serves.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { eventHub, FINAL_WRITE_MS, QUEUE_EVENTS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** The status line of a GET /v1/events, read as it comes (a stream's body never ends). */
function streamStatus(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => c.write("GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    let text = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      text += d;
      if (!text.includes("\r\n")) return;
      c.destroy();
      resolve(text.slice(0, text.indexOf("\r\n")));
    });
    c.on("error", reject);
  });
}

test("a client that stops reading its backlog is dropped as decisions come, and cut off 15 s later", async () => {
  const services = await makeServices();
  const g = services.governor;
  const app = createApp({
    governor: g,
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
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await services.close();
  });
  await g.putObject("w", { policy: "queue-worker" });
  const [from] = await g.listDecisions("w", 1);
  // A backlog of about 6 MB, more than the socket's buffers take from a client that reads nothing.
  for (let i = 0; i < 12_000; i++) await g.postFacts("w", { n: i });

  const client = net.connect(port, "127.0.0.1");
  cleanup.unshift(async () => void client.destroy());
  await new Promise<void>((resolve) => {
    client.on("connect", () =>
      client.write(`GET /v1/events?types=decision HTTP/1.1\r\nhost: 127.0.0.1\r\nlast-event-id: ${from!.id}\r\n\r\n`),
    );
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString();
      if (!head.includes(": connected")) return;
      client.off("data", onData);
      // From here on the client reads nothing.
      client.pause();
      resolve();
    };
    client.on("data", onData);
  });
  const hub = eventHub(g);
  const stuck = responses[0]!;
  // The backlog fills the socket's buffers: the server waits for the client.
  await expect.poll(() => stuck.writableNeedDrain).toBe(true);
  expect(hub.size).toBe(1);
  expect(await streamStatus(port), "it holds the one slot").toMatch(/^HTTP\/1\.1 503 /);
  // More decisions than a queue holds come while it does not read: it has fallen that far behind.
  for (let i = 0; hub.size > 0 && i < 3 * QUEUE_EVENTS; i++) await g.postFacts("w", { n: -i });
  expect(hub.size, "the client that stopped reading was dropped").toBe(0);
  await services.advance(FINAL_WRITE_MS + 1);
  await expect.poll(() => stuck.closed).toBe(true);
  expect(await streamStatus(port), "the slot is free again").toMatch(/^HTTP\/1\.1 200 /);
});
