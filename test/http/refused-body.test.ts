// A request the fast path refuses at the gate (401 without a token, 403 without the scope) had
// its body read to its end, however long: a client without a token could make the server read
// without bound on POST /v1/objects/{id}/facts and PUT /v1/objects/{id}. Now at most 64 KiB of it
// is let go (so that a small body leaves the connection serving), and past that the server reads
// no more and ends its side of the connection after the reply. Measured in bytes sent, not in time.

import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

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

/**
 * Sends `head` and then a chunked body, 64 KiB a chunk as fast as the socket takes it, until the
 * server closes the connection or `cap` bytes have gone; resolves with the reply and the bytes sent.
 */
function streamed(head: string, cap: number): Promise<{ reply: string; sent: number; closed: boolean }> {
  const { port } = new URL(vigil.url);
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), "127.0.0.1");
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
    let sent = 0;
    let reply = "";
    let closed = false;
    let resolved = false;
    const done = () => {
      if (resolved) return;
      resolved = true;
      sock.destroy();
      resolve({ reply, sent, closed });
    };
    const pump = () => {
      while (!closed && sent < cap) {
        sent += 0x10000;
        if (!sock.write(chunk)) return void sock.once("drain", pump);
      }
      if (!closed) done();
    };
    sock.on("connect", () => {
      sock.write(head);
      pump();
    });
    sock.on("data", (d: Buffer) => (reply += d.toString()));
    sock.on("error", () => {});
    // The server ends its side (FIN) and reads no more: the client sees the end of the reply.
    sock.on("end", () => {
      closed = true;
      done();
    });
    sock.on("close", () => {
      closed = true;
      done();
    });
  });
}

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
    const r = await streamed(head(method, path, token), 256 * MiB);
    expect(r.reply).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(r.closed).toBe(true);
    // 64 KiB read, plus what the sockets' buffers held on the way: far from the 256 MiB offered.
    expect(r.sent).toBeLessThan(64 * MiB);
  },
);

test("a refused request with a small body leaves its connection serving the next one", async () => {
  const { port } = new URL(vigil.url);
  const body = JSON.stringify({ facts: { a: 1 } });
  const one = (token?: string) =>
    `POST /v1/objects/w1/facts HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
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
  expect(replies.match(/HTTP\/1\.1 \d{3}/g)).toEqual(["HTTP/1.1 401", "HTTP/1.1 404"]);
});
