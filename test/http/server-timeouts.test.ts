// The server's own connection timeouts (README's bounds table, "one connection's time"), not whatever
// Node's defaults are: a client has 20 s to send a request's line and headers (Node's 60 s let a
// client that trickles them hold a connection for a minute), 300 s for the whole request, and a
// connection idle after a reply is closed after 5 s. These are Node's own checks, on its real
// clock: the values are read back from the server main.ts builds, not waited for.

import { expect, test } from "vitest";
import {
  HEADERS_TIMEOUT_MS,
  httpServer,
  KEEP_ALIVE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from "../../src/http/node-server.ts";

test("the server bounds headers to 20 s, a request to 300 s and an idle connection to 5 s", () => {
  const server = httpServer(() => {});
  expect([HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS]).toEqual([20_000, 300_000, 5_000]);
  expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
  expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
  expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
});
