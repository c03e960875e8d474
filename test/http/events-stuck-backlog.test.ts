// README (Following decisions live): "A client that falls further behind gets a last `event:
// overflow` and the stream ends ... A client that does not read even that is disconnected after
// 15 s." A client that stops reading while its backlog is sent (types=decision, Last-Event-ID far
// back) was never dropped: the decisions that came meanwhile were left to the backlog, not
// queued, so nothing overflowed, no cut-off started, and it held its VIGIL_MAX_STREAMS slot for
// as long as it kept the connection. It is dropped once it is past the limit and, BEHIND_MS later,
// no nearer (a client that reads slowly sees no write for seconds, and was dropped at once though
// it kept up: events-backlog-stall.test.ts). Real sockets, as main.ts serves.

import { afterEach, expect, test } from "vitest";
import { BEHIND_MS, eventHub, FINAL_WRITE_MS, QUEUE_EVENTS } from "../../src/http/sse.ts";
import { makeServices } from "../helpers/services.ts";
import { streamClient, streamHead, streamServer } from "../helpers/stream-server.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

test("a client that stops reading its backlog is dropped once it is behind and no nearer 15 s later, and cut off 15 s after", async () => {
  const services = await makeServices();
  const g = services.governor;
  const { port, responses, close } = await streamServer(services, { maxStreams: 1 });
  cleanup.push(async () => {
    await close();
    await services.close();
  });
  await g.putObject("w", { policy: "queue-worker" });
  const [from] = await g.listDecisions("w", 1);
  // A backlog of about 6 MB, more than the socket's buffers take from a client that reads nothing.
  for (let i = 0; i < 12_000; i++) await g.postFacts("w", { n: i });

  // From `: connected` on, the client reads nothing.
  const client = await streamClient(port, { lastEventId: from!.id });
  cleanup.unshift(async () => void client.destroy());
  const hub = eventHub(g);
  const stuck = responses[0]!;
  // The backlog fills the socket's buffers: the server waits for the client.
  await expect.poll(() => stuck.writableNeedDrain).toBe(true);
  expect(hub.size).toBe(1);
  expect(await streamHead(port), "it holds the one slot").toMatch(/^http\/1\.1 503 /);
  // More decisions than a queue holds come while it does not read: it has fallen that far behind,
  // and BEHIND_MS later it is no nearer.
  for (let i = 0; i < 3 * QUEUE_EVENTS; i++) await g.postFacts("w", { n: -i });
  expect(hub.size, "not yet: a client reading its backlog may see no write for seconds").toBe(1);
  await services.advance(BEHIND_MS);
  await expect.poll(() => hub.size, { message: "the client that stopped reading was dropped" }).toBe(0);
  await services.advance(FINAL_WRITE_MS + 1);
  await expect.poll(() => stuck.closed).toBe(true);
  expect(await streamHead(port), "the slot is free again").toMatch(/^http\/1\.1 200 /);
});
