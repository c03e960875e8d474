// `Expect: 100-continue` on a request that declares no body, pipelined behind another: the 100
// was held by Node until the reply before it was out, and then written after its own reply's head
// (a head goes in front of what waits when the body is bytes), inside the reply. The client read
// "HTTP/1.1 100 Continue" as the body and the rest of the connection out of step. Real HTTP on
// port 0, the replies read by their Content-Length as a client reads them.

import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, 64 * 1024);
  ({ port } = served);
});
afterAll(() => served.close());

interface Read {
  status: number;
  body: string;
}

/** Sends `requests` in one write and reads `count` replies (100s included) by their framing. */
function exchange(requests: string[], count: number): Promise<Read[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(requests.join("")));
    let buffer = Buffer.alloc(0);
    const replies: Read[] = [];
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) break;
        const head = buffer.subarray(0, end).toString("latin1");
        const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? NaN);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) break;
        replies.push({ status, body: buffer.subarray(end + 4, end + 4 + length).toString("utf8") });
        buffer = buffer.subarray(end + 4 + length);
      }
      if (replies.length >= count) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(replies));
  });
}

const request = (line: string, headers = "") => `${line} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${headers}\r\n`;
const expectContinue = "expect: 100-continue\r\n";

describe("Expect: 100-continue on a request without a body", () => {
  test("pipelined behind another: its reply is whole, and the connection stays in step", async () => {
    const replies = await exchange(
      [
        request("GET /healthz"),
        request("OPTIONS /v1/objects/w1", expectContinue),
        request("POST /v1/facts", `authorization: Bearer ${TOKENS.facts}\r\ncontent-length: 0\r\n${expectContinue}`),
        request("GET /healthz"),
      ],
      4,
    );
    // Without the change the 405's body starts with "HTTP/1.1 100 Continue" and the replies
    // after it are read from the middle of the one before.
    expect(replies.map((r) => r.status)).toEqual([200, 405, 400, 200]);
    for (const r of replies) expect(() => JSON.parse(r.body)).not.toThrow();
    expect(JSON.parse(replies[1]!.body).type).toBe("https://vigil.dev/problems/method-not-allowed");
    expect(JSON.parse(replies[2]!.body).type).toBe("https://vigil.dev/problems/malformed-request");
  });

  test("alone on its connection: answered 100 at once, then its reply", async () => {
    const replies = await exchange([request("OPTIONS /v1/objects/w1", expectContinue), request("GET /healthz")], 3);
    expect(replies.map((r) => r.status)).toEqual([100, 405, 200]);
  });
});
