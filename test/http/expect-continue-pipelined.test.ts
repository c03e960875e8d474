// `Expect: 100-continue` on a request that declares no body, pipelined behind another: the 100
// was held by Node until the reply before it was out, and then written after its own reply's head
// (a head goes in front of what waits when the body is bytes), inside the reply. The client read
// "HTTP/1.1 100 Continue" as the body and the rest of the connection out of step. Real HTTP on
// port 0, the replies read by their Content-Length as a client reads them.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pipelined, servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, 64 * 1024);
  ({ port } = served);
});
afterAll(() => served.close());

const request = (line: string, headers = "") => `${line} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${headers}\r\n`;
const expectContinue = "expect: 100-continue\r\n";

describe("Expect: 100-continue on a request without a body", () => {
  test("pipelined behind another: its reply is whole, and the connection stays in step", async () => {
    const replies = await pipelined(
      port,
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
    const replies = await pipelined(
      port,
      [request("OPTIONS /v1/objects/w1", expectContinue), request("GET /healthz")],
      2,
    );
    expect(replies.map((r) => r.status)).toEqual([100, 405, 200]);
  });
});
