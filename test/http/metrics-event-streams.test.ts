// README (Metrics): `vigil_event_streams` is the number of event streams open, a dropped one
// until its connection ends: what VIGIL_MAX_STREAMS bounds, so that an operator sees how near
// the bound a server runs. Real sockets, as main.ts serves, and a scraper over HTTP.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { eventHub, FINAL_WRITE_MS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A client of GET /v1/events?types=decision that reads until `: connected`, and then on or not at all. */
async function streamClient(port: number, reading: boolean): Promise<net.Socket> {
  const client = net.connect(port, "127.0.0.1");
  cleanup.unshift(async () => void client.destroy());
  await new Promise<void>((resolve) => {
    client.on("connect", () => client.write("GET /v1/events?types=decision HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString();
      if (!head.includes(": connected")) return;
      client.off("data", onData);
      if (reading) client.resume();
      else client.pause();
      resolve();
    };
    client.on("data", onData);
  });
  return client;
}

test("vigil_event_streams counts the streams open, a dropped one until its connection is cut", async () => {
  const services = await makeServices();
  const g = services.governor;
  const metrics = new Metrics(g, { processMetrics: false });
  const app = createApp({ governor: g, policies: services.policies, whatIf: services.whatIf, tokens: [], metrics });
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
    metrics.close();
    await services.close();
  });
  const streams = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^# TYPE vigil_event_streams gauge$/m);
    return Number(/^vigil_event_streams (\S+)$/m.exec(text)?.[1]);
  };

  expect(await streams()).toBe(0);
  const reader = await streamClient(port, true);
  await streamClient(port, false);
  const stuck = responses.at(-1)!;
  expect(await streams()).toBe(2);

  // Decisions until the client that reads nothing is dropped: its connection is still open.
  const hub = eventHub(g);
  await g.putObject("w", { policy: "queue-worker" });
  for (let i = 0; hub.size > 1 && i < 200_000; i++) await g.postFacts("w", { n: i });
  expect(hub.size, "the client that reads nothing was dropped").toBe(1);
  expect(await streams()).toBe(2);
  // Cut off 15 s (of the server's clock) later.
  await services.advance(FINAL_WRITE_MS + 1);
  await expect.poll(() => stuck.closed).toBe(true);
  expect(await streams()).toBe(1);
  reader.destroy();
  await expect.poll(streams).toBe(0);
});
