// A request whose Host no URL takes (`1.2.3.4.5`) is answered 400 by node-server.ts before the
// fast path or hono see it, without reading its body. Node then read the unread body to its end
// and kept the connection: a client needing no token could make the server read without bound.
// Its body is let go within the fast path's bound (64 KiB) now.

import { afterAll, beforeAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";
import { streamedBody } from "../helpers/raw-http.ts";

const TOKEN = "admin-token-0123456789abcdef";
let vigil: VigilProcess;
beforeAll(async () => {
  vigil = await startVigil({ VIGIL_DB_URL: ":memory:", VIGIL_TOKENS: `ops:${TOKEN}:admin`, VIGIL_LOG_LEVEL: "warn" });
});
afterAll(async () => {
  vigil.kill("SIGKILL");
  await vigil.exited;
});

const MiB = 1024 * 1024;
/** The server's port. */
const port = () => Number(new URL(vigil.url).port);

test.each([
  ["POST", "/v1/objects/w1/facts"],
  ["PUT", "/v1/objects/w1"],
])("%s %s with a Host no URL takes: answered 400, and the body is not read without bound", async (method, path) => {
  const head =
    `${method} ${path} HTTP/1.1\r\nhost: 1.2.3.4.5\r\ncontent-type: application/json\r\n` +
    `transfer-encoding: chunked\r\n\r\n`;
  const r = await streamedBody(port(), head, 256 * MiB);
  expect(r.reply).toMatch(/^HTTP\/1\.1 400 /);
  expect(r.closed).toBe(true);
  expect(r.sent).toBeLessThan(64 * MiB);
});
