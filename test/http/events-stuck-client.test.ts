// README (Following decisions live): "A client that falls further behind gets a last
// `event: overflow` and the stream ends ... A client that does not read even that is
// disconnected after 15 s." Over a real socket, the cut-off (sse.ts overflow(): stream.abort()
// after FINAL_WRITE_MS) only cancels the hono side of the stream; @hono/node-server is parked
// waiting for the socket's 'drain' and never learns the body ended, so the HTTP response is
// never ended and the connection is never closed: it stays open as long as the client keeps it.
// And a client that closes its end of the connection (the server keeps half-closed connections
// for the replies still due, node-server.ts) leaves at once, not at a heartbeat that fails.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { httpServer } from "../../src/http/node-server.ts";
import { endEventStreams, eventHub, FINAL_WRITE_MS } from "../../src/http/sse.ts";
import { WAIT_MS } from "../helpers/eventually.ts";
import { doors } from "./harness.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function stuckClient() {
  const d = await doors([], 1 << 20);
  const responses: ServerResponse[] = [];
  const server: Server = httpServer((req: IncomingMessage, res: ServerResponse) => {
    responses.push(res);
    if (!d.fast(req, res)) void d.hono(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const client = net.connect(port, "127.0.0.1");
  cleanup.push(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await d.services.close();
  });
  let head = "";
  await new Promise<void>((resolve) => {
    client.on("connect", () => client.write("GET /v1/events?types=decision HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    const onData = (b: Buffer) => {
      head += b.toString();
      if (head.includes(": connected")) {
        client.off("data", onData);
        // From here on the client reads nothing.
        client.pause();
        resolve();
      }
    };
    client.on("data", onData);
  });
  const g = d.services.governor;
  await g.putObject("w", { policy: "queue-worker", memory: { pad: "x".repeat(4000) } });
  return { d, g, client, hub: eventHub(g), res: responses[0]! };
}

/**
 * Whether the response's connection closes. It closes a few turns of the loop after the server
 * ends or destroys it; false, the defect, when it is still open after WAIT_MS, a hang-guard under
 * the test's 60 s that a loaded machine does not reach (5 s, as it was, were a bound on speed).
 */
const closedSoon = (res: ServerResponse): Promise<boolean> =>
  res.closed
    ? Promise.resolve(true)
    : new Promise((resolve) => {
        const guard = setTimeout(() => resolve(false), WAIT_MS);
        res.once("close", () => {
          clearTimeout(guard);
          resolve(true);
        });
      });

test("a client that closes its end of the connection leaves the hub at once, and the connection closes", async () => {
  const { client, hub, res } = await stuckClient();
  expect(hub.size).toBe(1);
  client.end();
  await expect.poll(() => hub.size).toBe(0);
  expect(await closedSoon(res)).toBe(true);
});

test("at shutdown a stream whose client is not reading ends at once too (its connection closes)", async () => {
  const { g, hub, res } = await stuckClient();
  // Enough decisions that the socket's buffers are full (the server waits for the client), not
  // so many that the stream's own queue overflows.
  for (let i = 0; !res.writableNeedDrain && i < 200_000; i++) await g.postFacts("w", { n: i });
  for (let i = 0; i < 10; i++) await g.postFacts("w", { n: -i });
  expect(hub.size).toBe(1);
  endEventStreams(g);
  expect(hub.size).toBe(0);
  expect(await closedSoon(res), "the stream ended, but its connection stays open (the drain waits for it)").toBe(true);
});

test("a client that reads nothing, dropped with overflow, is disconnected 15 s (of the server's clock) later", async () => {
  const { d, g, hub, res } = await stuckClient();
  expect(hub.size).toBe(1);
  // Decisions until the socket's buffers are full and the stream's queue overflows.
  for (let i = 0; hub.size > 0 && i < 200_000; i++) await g.postFacts("w", { n: i });
  expect(hub.size).toBe(0);
  // The client does not read even the overflow event: 15 s later it is cut off.
  await d.services.advance(FINAL_WRITE_MS + 1);
  expect(await closedSoon(res), "the server still holds the connection of a client it dropped").toBe(true);
});

test("at shutdown a client that stopped reading with less than 16 KiB held back is disconnected too", async () => {
  const { g, hub, res } = await stuckClient();
  // Decisions until the socket's buffers are full and Node holds a few bytes back, fewer than its
  // high-water mark (the last write returned true: writableNeedDrain is false).
  const turn = () => new Promise<void>((r) => setImmediate(r));
  let reached = false;
  for (let i = 0; i < 200_000 && !res.writableNeedDrain; i++) {
    await g.postFacts("w", { n: i });
    for (let k = 0; k < 3; k++) await turn();
    if (res.writableLength > 0 && !res.writableNeedDrain) {
      reached = true;
      break;
    }
  }
  expect(reached, "the state under test was reached").toBe(true);
  endEventStreams(g);
  expect(hub.size).toBe(0);
  expect(await closedSoon(res), `the connection stays open (${res.writableLength} bytes held)`).toBe(true);
});

test("at shutdown a client dropped with overflow, not reading, is disconnected at once, not 15 s later", async () => {
  // Dropped, it had left the hub: ending the hub's streams passed it by, and the drain waited
  // for its cut-off, 15 s, past the default VIGIL_DRAIN_TIMEOUT (10 s).
  const { g, hub, res } = await stuckClient();
  for (let i = 0; hub.size > 0 && i < 200_000; i++) await g.postFacts("w", { n: i });
  expect(hub.size).toBe(0);
  endEventStreams(g);
  expect(await closedSoon(res), "the connection of the dropped client stays open (the drain waits for it)").toBe(true);
});
