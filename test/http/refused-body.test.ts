// A request the fast path refuses at the gate (401 without a token, 403 without the scope) had
// its body read to its end, however long: a client without a token could make the server read
// without bound on POST /v1/objects/{id}/facts and PUT /v1/objects/{id}. Now at most 64 KiB of it
// is let go (so that a small body leaves the connection serving), and past that the server reads
// no more and ends its side of the connection after the reply. The same holds for hono's routes,
// whose adapter read on for up to 500 ms or 64 MiB. Measured in bytes sent, not in time.

import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";
import { streamedBody, stubbornBody } from "../helpers/raw-http.ts";

const TOKEN = "admin-token-0123456789abcdef";
const FACTS_TOKEN = "facts-token-0123456789abcdef";
let vigil: VigilProcess;
beforeAll(async () => {
  vigil = await startVigil({
    VIGIL_DB_URL: ":memory:",
    VIGIL_TOKENS: `ops:${TOKEN}:admin,ingest:${FACTS_TOKEN}:write:facts`,
    VIGIL_LOG_LEVEL: "warn",
  });
});
afterAll(async () => {
  vigil.kill("SIGKILL");
  await vigil.exited;
});

const MiB = 1024 * 1024;
/** The server's port. */
const port = () => Number(new URL(vigil.url).port);

const head = (method: string, path: string, token?: string) =>
  `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
  `${token ? `authorization: Bearer ${token}\r\n` : ""}transfer-encoding: chunked\r\n\r\n`;

test.each([
  ["POST", "/v1/objects/w1/facts", undefined, 401],
  ["PUT", "/v1/objects/w1", undefined, 401],
  ["PUT", "/v1/objects/w1", FACTS_TOKEN, 403],
])(
  "%s %s refused at the gate: the connection closes long before the body ends",
  async (method, path, token, status) => {
    const r = await streamedBody(port(), head(method, path, token), 256 * MiB);
    expect(r.reply).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(r.closed).toBe(true);
    // 64 KiB read, plus what the sockets' buffers held on the way: far from the 256 MiB offered.
    expect(r.sent).toBeLessThan(64 * MiB);
  },
);

// hono's routes (the fast path does not answer these): its adapter used to read on for up to
// 500 ms or 64 MiB once the reply was out, a few hundred MB on loopback, again on every request.
test.each([
  ["POST /v1/cloudevents", "/v1/cloudevents", "content-type: application/cloudevents+json\r\n", 401],
  [
    "POST facts with a header sent twice",
    "/v1/objects/w1/facts",
    "x-a: 1\r\nx-a: 2\r\ncontent-type: application/json\r\n",
    401,
  ],
  ["POST to a route that does not exist", "/v1/nothing-here", "content-type: application/json\r\n", 404],
])("%s refused by hono: the connection closes long before the body ends", async (_name, path, headers, status) => {
  const r = await streamedBody(
    port(),
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}transfer-encoding: chunked\r\n\r\n`,
    256 * MiB,
  );
  expect(r.reply).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(r.closed).toBe(true);
  expect(r.sent).toBeLessThan(64 * MiB);
});

// A client that goes on sending after the server ended its side: hono's adapter, once the reply
// closed, resumed the request the bound had paused and read on (tens of MiB in 1.5 s).
test.each([
  ["the fast path", "/v1/objects/w1/facts", "application/json"],
  ["hono", "/v1/cloudevents", "application/cloudevents+json"],
])(
  "refused by %s, a client that keeps sending: the server reads no more than the sockets' buffers hold",
  async (_door, path, type) => {
    const r = await stubbornBody(
      port(),
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n\r\n`,
      1500,
    );
    expect(r.reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.taken).toBeLessThan(16 * MiB);
  },
);

test.each([
  ["the fast path", "/v1/objects/w1/facts"],
  ["hono", "/v1/cloudevents"],
])("a request %s refuses with a small body leaves its connection serving the next one", async (_door, path) => {
  const { port } = new URL(vigil.url);
  const body = JSON.stringify({ facts: { a: 1 } });
  const one = (token?: string) =>
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
    `${token ? `authorization: Bearer ${token}\r\n` : ""}content-length: ${body.length}\r\n\r\n${body}`;
  const replies = await new Promise<string>((resolve) => {
    const sock = net.connect(Number(port), "127.0.0.1", () => sock.write(one() + one(TOKEN)));
    let text = "";
    sock.on("data", (d: Buffer) => {
      text += d.toString();
      if ((text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length === 2) {
        sock.destroy();
        resolve(text);
      }
    });
  });
  // The second request is answered (a 404 for the object, a 4xx for a body that is no event).
  expect(replies.match(/HTTP\/1\.1 \d{3}/g)?.[0]).toBe("HTTP/1.1 401");
  expect(replies.match(/HTTP\/1\.1 \d{3}/g)?.[1]).toMatch(/^HTTP\/1\.1 4(?!01)\d\d$/);
});
