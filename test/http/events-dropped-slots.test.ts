// README (Following decisions live): "At most VIGIL_MAX_STREAMS streams are open at once". A
// stream dropped with `overflow` keeps its connection until its client reads that event, or is
// cut off 15 s later: it is still open, and counts against the bound until then. (It left the
// hub's streams when dropped, and the next request found a free slot while it was still open.)
// Real sockets, as main.ts serves.

import { afterEach, expect, test } from "vitest";
import { eventHub, FINAL_WRITE_MS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";
import { streamClient, streamHead, streamServer } from "../helpers/stream-server.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A server with room for one stream, and a client on it that reads its first line and no more. */
async function oneStreamStuck() {
  const services = await makeServices({ tokens: [] });
  const { port, responses, close } = await streamServer(services, { maxStreams: 1 });
  const client = await streamClient(port);
  cleanup.push(async () => {
    client.destroy();
    await close();
    await services.close();
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
