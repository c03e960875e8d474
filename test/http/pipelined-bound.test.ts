// Requests pipelined on one connection are taken in MAX_PIPELINED at a time: behind a reply that
// does not end (an event stream) or one the client does not read, no more run, and the
// connection is not read further, so that one client cannot make the server hold requests and
// their replies without bound. A client that reads its replies still gets every one, in order.

import type { Server, ServerResponse } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { afterEach, expect, test } from "vitest";
import { httpServer, MAX_PIPELINED } from "../../src/http/node-server.ts";
import { until } from "../../src/substrate/process/proc.ts";
import { eventually } from "../helpers/eventually.ts";

let server: Server | undefined;
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** A server whose `/stream` never ends; every other request is answered with its path. */
async function serve(): Promise<{ port: number; arrived: () => number; ran: () => number }> {
  let arrived = 0;
  let ran = 0;
  server = httpServer(
    (req, res: ServerResponse) => {
      ran++;
      if (req.url === "/stream") res.writeHead(200, { "content-type": "text/event-stream" }).write(": connected\n\n");
      else res.end(`${req.url}\n`);
    },
    // What sees every request Node parses, before its turn.
    (inner) => (req, res) => {
      arrived++;
      inner(req, res);
    },
  );
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, arrived: () => arrived, ran: () => ran };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
const del = (path: string) => `DELETE ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;

function connect(port: number, onData: (text: string) => void = () => {}): Promise<Socket> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1", () => resolve(c));
    clients.push(c);
    // Each write goes at once (Nagle would hold a small one back for the server's delayed ACK).
    c.setNoDelay(true);
    c.setEncoding("utf8");
    c.on("data", onData);
    c.on("error", () => {});
  });
}

/** Writes the bytes in `writes` separate writes, each once the last was taken by the kernel. */
async function writeEach(c: Socket, writes: string[]): Promise<void> {
  for (const w of writes) await new Promise<void>((resolve) => c.write(w, () => resolve()));
}

test("GETs pipelined behind an event stream: at most MAX_PIPELINED run, and the connection is not read further", async () => {
  const s = await serve();
  let text = "";
  const c = await connect(s.port, (d) => (text += d));
  await writeEach(c, [get("/stream")]);
  await eventually(() => text.includes(": connected"));
  // Ten times the bound, in one write: their replies can never go out (the stream does not end).
  await writeEach(c, [Array.from({ length: 10 * MAX_PIPELINED }, (_, i) => get(`/g${i}`)).join("")]);
  await eventually(() => s.arrived() === 1 + 10 * MAX_PIPELINED);
  expect(s.arrived()).toBe(1 + 10 * MAX_PIPELINED);
  // The stream and MAX_PIPELINED - 1 GETs behind it, not every one of them.
  expect(s.ran()).toBe(MAX_PIPELINED);
});

test("requests pipelined behind an event stream in many writes stop being read at the bound", async () => {
  const s = await serve();
  let text = "";
  const c = await connect(s.port, (d) => (text += d));
  await writeEach(c, [get("/stream")]);
  await eventually(() => text.includes(": connected"));
  // DELETEs wait for every reply before them, and the stream's never ends: 100 of them, a write each.
  const writes = Array.from({ length: 100 }, (_, i) => del(`/d${i}`));
  await writeEach(c, writes.slice(0, MAX_PIPELINED - 1));
  await eventually(() => s.arrived() === MAX_PIPELINED);
  expect(s.arrived()).toBe(MAX_PIPELINED);
  // The bound is reached: the rest stay unread (without it, all 100 came in and waited).
  await writeEach(c, writes.slice(MAX_PIPELINED - 1));
  await until(() => s.arrived() > MAX_PIPELINED, 1_000);
  expect(s.arrived()).toBe(MAX_PIPELINED);
  expect(s.ran()).toBe(1);
});

test("a client that reads its replies gets every one of many pipelined GETs, in order", async () => {
  const s = await serve();
  let text = "";
  const c = await connect(s.port, (d) => (text += d));
  const n = 10 * MAX_PIPELINED;
  await writeEach(c, [Array.from({ length: n }, (_, i) => get(`/g${i}`)).join("") + get("/last")]);
  await eventually(() => text.endsWith("/last\n"));
  const bodies = [...text.matchAll(/\r\n\r\n(\/\w+)\n/g)].map((m) => m[1]);
  expect(bodies).toEqual([...Array.from({ length: n }, (_, i) => `/g${i}`), "/last"]);
  expect(s.ran()).toBe(n + 1);
});

test("a connection held at the bound is read again once its requests are answered: DELETEs in two writes all get their replies", async () => {
  const s = await serve();
  let text = "";
  const c = await connect(s.port, (d) => (text += d));
  // DELETEs run one at a time, each reply written as its turn comes (none waits in Node's
  // buffers, whose draining would have Node read the connection again on its own).
  const n = 2.5 * MAX_PIPELINED;
  const writes = Array.from({ length: n }, (_, i) => del(`/d${i}`));
  await writeEach(c, [writes.slice(0, MAX_PIPELINED).join("")]);
  await eventually(() => s.arrived() === MAX_PIPELINED);
  // The bound was reached: what comes now is read only once the server reads the connection again.
  await writeEach(c, [writes.slice(MAX_PIPELINED).join("")]);
  expect(await eventually(() => text.endsWith(`/d${n - 1}\n`))).toBe(true);
  const bodies = [...text.matchAll(/\r\n\r\n(\/\w+)\n/g)].map((m) => m[1]);
  expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `/d${i}`));
  expect(s.arrived()).toBe(n);
});
