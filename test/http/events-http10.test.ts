// An HTTP/1.0 client has no chunked transfer coding: a reply to it must not have a
// Transfer-Encoding (RFC 9112 6.1), and its body ends with the connection. The event stream said
// `transfer-encoding: chunked` and `connection: keep-alive` to it, and its events came in chunk
// frames ("d\r\n: connected\n\n\r\n"), which such a client reads as part of the stream. An
// HTTP/1.1 client still gets chunks. Real sockets, as main.ts serves.

import type { Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { httpServer } from "../../src/http/node-server.ts";
import { doors } from "./harness.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function serve(): Promise<number> {
  const d = await doors([], 1 << 20);
  const server: Server = httpServer((req, res) => {
    if (!d.fast(req, res)) void d.hono(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await d.services.close();
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The head (lowercased) and the body's first bytes as sent, once the stream's first write came:
 * its `: connected` comment and the id it begins at (the newest decision so far).
 */
function firstBytes(port: number, request: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => c.write(request));
    let text = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      text += d;
      const end = text.indexOf("\r\n\r\n");
      if (end < 0 || !/: connected\n\nid: dec_[0-9a-z]+\n\n(\r\n)?$/.test(text.slice(end + 4))) return;
      c.destroy();
      resolve({ head: text.slice(0, end).toLowerCase(), body: text.slice(end + 4) });
    });
    c.on("error", reject);
  });
}

test("an HTTP/1.0 client gets the stream unchunked, without Transfer-Encoding, on a connection that closes", async () => {
  const port = await serve();
  const { head, body } = await firstBytes(port, "GET /v1/events HTTP/1.0\r\n\r\n");
  expect(head).toMatch(/^http\/1\.1 200 /);
  expect(head).toContain("content-type: text/event-stream");
  expect(head).not.toContain("transfer-encoding");
  expect(head).not.toContain("keep-alive");
  expect(head).toContain("connection: close");
  expect(body).toMatch(/^: connected\n\nid: dec_[0-9a-z]{13,}\n\n$/);
});

test("an HTTP/1.1 client gets it chunked, as before", async () => {
  const port = await serve();
  const { head, body } = await firstBytes(port, "GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  expect(head).toContain("transfer-encoding: chunked");
  expect(head).toContain("content-type: text/event-stream");
  expect(head).toContain("cache-control: no-cache");
  const [, size, chunk] = /^([0-9a-f]+)\r\n(: connected\n\nid: dec_[0-9a-z]{13,}\n\n)\r\n$/.exec(body)!;
  expect(Number.parseInt(size!, 16)).toBe(chunk!.length);
});
