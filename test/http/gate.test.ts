// The drain gate (http/gate.ts) over a real server and socket: a request let in counts until its
// reply is done, or until its connection closes, whichever comes first.

import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { DrainGate } from "../../src/http/gate.ts";
import { rawRequest } from "../helpers/raw-http.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

test("a request pipelined behind a reply still being sent is let out when its connection dies", async () => {
  const gate = new DrainGate();
  const seen: string[] = [];
  server = createServer((req, res) => {
    if (!gate.admit(req, res)) return;
    seen.push(req.url ?? "");
    // A reply that does not end by itself (an event stream); the one behind it is answered at
    // once, but Node sends it only after the first, and never closes it if the connection dies.
    if (req.url === "/stream") res.writeHead(200).write("x");
    else res.end("done");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const client = net.connect((server.address() as AddressInfo).port, "127.0.0.1", () =>
    client.write("GET /stream HTTP/1.1\r\nhost: a\r\n\r\nGET /after HTTP/1.1\r\nhost: a\r\n\r\n"),
  );
  client.on("error", () => {});
  await new Promise<void>((resolve) => client.once("data", () => resolve()));
  for (let i = 0; i < 1_000 && seen.length < 2; i++) await new Promise((r) => setImmediate(r));
  expect({ seen, active: gate.active }).toEqual({ seen: ["/stream", "/after"], active: 2 });
  client.destroy();
  const drained = gate.close();
  let done = false;
  void drained.then(() => (done = true));
  for (let i = 0; i < 1_000 && !done; i++) await new Promise((r) => setImmediate(r));
  expect({ done, active: gate.active }).toEqual({ done: true, active: 0 });
});

test("closed, it still lets the liveness probe in, whether its target is in origin or absolute form", async () => {
  const gate = new DrainGate();
  server = createServer((req, res) => {
    if (gate.admit(req, res)) res.end("in");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await gate.close();
  const statuses: Record<string, number> = {};
  for (const path of [
    "/healthz",
    "/healthz?x=1",
    `http://127.0.0.1:${port}/healthz`,
    `HTTP://127.0.0.1:${port}/healthz?x=1`,
    "/readyz",
    `http://127.0.0.1:${port}/readyz`,
    "/healthzz",
  ])
    statuses[path.replace(String(port), "PORT")] = (await rawRequest(port, { method: "GET", path })).status;
  expect(statuses).toEqual({
    "/healthz": 200,
    "/healthz?x=1": 200,
    "http://127.0.0.1:PORT/healthz": 200,
    "HTTP://127.0.0.1:PORT/healthz?x=1": 200,
    "/readyz": 503,
    "http://127.0.0.1:PORT/readyz": 503,
    "/healthzz": 503,
  });
});
