// `Expect: 100-continue` on a request whose client sent its body without waiting for the 100,
// pipelined behind a request still running (a fact posted before it): by its turn the whole body
// had been received, so reading it asked the client for nothing and no 100 went out, and Node's
// rule for a reply sent without the 100 it was asked for (the body may yet follow) closed the
// connection after it: the request pipelined behind was never answered. Both doors on port 0 (a
// header sent twice, `x-dup`, sends the request to hono); the replies read by their framing.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pipelined, servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, 64 * 1024);
  ({ port } = served);
});
afterAll(() => served.close());

const request = (line: string, headers: string, body = "", type = "application/json") =>
  `${line} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${headers}` +
  (body === "" ? "" : `content-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`) +
  `\r\n${body}`;
const facts = `authorization: Bearer ${TOKENS.facts}\r\n`;
const FACT = JSON.stringify({ facts: { queue: { depth: 1 } } });

describe("Expect: 100-continue with the body sent at once, pipelined behind a fact", () => {
  test.each([
    ["the fast path", ""],
    ["hono", "x-dup: 1\r\nx-dup: 2\r\n"],
  ])("on %s: answered, and the request behind it too", async (_door, dup) => {
    const replies = await pipelined(
      port,
      [
        request("POST /v1/objects/w1/facts", facts, FACT),
        request("POST /v1/objects/w1/facts", `${facts}${dup}expect: 100-continue\r\n`, FACT),
        request("GET /healthz", ""),
      ],
      3,
    );
    // Without the change the second reply says `connection: close`, and the third never comes.
    expect(replies.filter((r) => r.status !== 100).map((r) => [r.status, r.connection])).toEqual([
      [200, "keep-alive"],
      [200, "keep-alive"],
      [200, "keep-alive"],
    ]);
  });
});

// The same body, come whole by its turn, but never read: the request is refused before its body
// is asked for (a content type the endpoint does not take), or its route reads none (a DELETE).
// Nothing but the next request can follow a body received whole, yet the reply, sent without the
// 100, closed the connection, and the request behind it was never answered.
describe("Expect: 100-continue with the body sent at once and never read, pipelined behind a fact", () => {
  test.each([
    ["a 415 on the fast path", "POST /v1/objects/w1/facts", facts, "text/plain", 415],
    ["a 415 on hono", "POST /v1/objects/w1/facts", `${facts}x-dup: 1\r\nx-dup: 2\r\n`, "text/plain", 415],
    ["a DELETE", "DELETE /v1/objects/w9", `authorization: Bearer ${TOKENS.objects}\r\n`, "application/json", 404],
  ])("%s: answered, and the request behind it too", async (_what, line, headers, type, status) => {
    const replies = await pipelined(
      port,
      [
        request("POST /v1/objects/w1/facts", facts, FACT),
        request(line, `${headers}expect: 100-continue\r\n`, FACT, type),
        request("GET /healthz", ""),
      ],
      3,
    );
    // Without the change the second reply says `connection: close`, and the third never comes.
    expect(replies.filter((r) => r.status !== 100).map((r) => [r.status, r.connection])).toEqual([
      [200, "keep-alive"],
      [status, "keep-alive"],
      [200, "keep-alive"],
    ]);
  });
});

// The same requests first on their connection, their bodies in the same write as their heads: a
// request refused at once (its reply computed without waiting for anything) had its reply's head
// written while the parser had yet to read the body that followed the head in the same bytes, so
// the request was not complete then, and the connection closed after the reply though the body
// had all arrived: the request pipelined behind it was never answered.
describe("Expect: 100-continue with the body sent at once and never read, first on its connection", () => {
  test.each([
    ["a 415 on the fast path", "POST /v1/objects/w1/facts", facts, "text/plain", 415],
    ["a 415 on hono", "POST /v1/objects/w1/facts", `${facts}x-dup: 1\r\nx-dup: 2\r\n`, "text/plain", 415],
    ["a 404 for no route", "POST /v1/nothing", facts, "application/json", 404],
    ["a DELETE", "DELETE /v1/objects/w9", `authorization: Bearer ${TOKENS.objects}\r\n`, "application/json", 404],
  ])("%s: answered, and the request behind it too", async (_what, line, headers, type, status) => {
    const replies = await pipelined(
      port,
      [request(line, `${headers}expect: 100-continue\r\n`, FACT, type), request("GET /healthz", "")],
      2,
    );
    // Without the change the first reply says `connection: close`, and the second never comes.
    expect(replies.filter((r) => r.status !== 100).map((r) => [r.status, r.connection])).toEqual([
      [status, "keep-alive"],
      [200, "keep-alive"],
    ]);
  });
});
