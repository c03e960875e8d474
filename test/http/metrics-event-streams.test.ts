// README (Metrics): `vigil_event_streams` is the number of event streams open, a dropped one
// until its connection ends: what VIGIL_MAX_STREAMS bounds, so that an operator sees how near
// the bound a server runs. Real sockets, as main.ts serves, and a scraper over HTTP.

import { afterEach, expect, test } from "vitest";
import { Metrics } from "../../src/http/metrics.ts";
import { eventHub, FINAL_WRITE_MS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";
import { streamClient, streamServer } from "../helpers/stream-server.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

test("vigil_event_streams counts the streams open, a dropped one until its connection is cut", async () => {
  const services = await makeServices();
  const g = services.governor;
  const metrics = new Metrics(g, { processMetrics: false });
  const { port, responses, close } = await streamServer(services, { metrics });
  cleanup.push(async () => {
    await close();
    metrics.close();
    await services.close();
  });
  const streams = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^# TYPE vigil_event_streams gauge$/m);
    return Number(/^vigil_event_streams (\S+)$/m.exec(text)?.[1]);
  };

  expect(await streams()).toBe(0);
  const reader = await streamClient(port, { reading: true });
  cleanup.unshift(async () => void reader.destroy());
  const stuckClient = await streamClient(port);
  cleanup.unshift(async () => void stuckClient.destroy());
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
