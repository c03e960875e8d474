// The load client the benchmarks measure with (wrk when installed, else node's http): requests
// that get no reply are errors, and a slow reply is a latency, not left out of the percentiles.

import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { expect, test } from "vitest";
import { client, runWith } from "../../bench/load.ts";

const listen = async (server: ReturnType<typeof createServer> | ReturnType<typeof createHttpServer>) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

// node's http always; wrk where it is installed (the benchmarks use it then).
const clients = client === "wrk" ? (["node", "wrk"] as const) : (["node"] as const);

test.each(clients)("%s: a server that drops every connection: no reply, and errors counted", async (which) => {
  const server = createServer((s) => s.once("data", () => s.destroy()));
  const url = await listen(server);
  try {
    const r = await runWith(which, url, { requests: [{ path: "/x", body: "{}" }], connections: 1, seconds: 1 });
    expect(r.rps).toBe(0);
    expect(r.errors).toBeGreaterThan(0);
  } finally {
    server.close();
  }
});

test.each(clients)("%s: replies slower than 2 s are latencies (wrk's default timeout left them out)", async (which) => {
  // A lower bound only: each reply is held at least 2.2 s, whatever the machine does.
  const server = createHttpServer((req, res) => {
    req.resume();
    setTimeout(() => res.end("{}"), 2_200);
  });
  const url = await listen(server);
  try {
    const r = await runWith(which, url, { requests: [{ path: "/x", body: "{}" }], connections: 2, seconds: 3 });
    expect(r.requests).toBeGreaterThan(0);
    expect(r.p50).toBeGreaterThanOrEqual(2_000);
    expect(r.p99).toBeGreaterThanOrEqual(2_000);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});
