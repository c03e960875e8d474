// `Expect: 100-continue` on a request refused for its headers once its token let it through: a
// content type that is not JSON (415), an Idempotency-Key that breaks the key rule (422), an
// If-Match that never holds (412). hono's routes check those before they read the body, so the
// client is not invited to send it; the fast path (POST .../facts, PUT /v1/objects/{id}) read the
// body first and invited it. Both doors on port 0: a header sent twice (`x-dup`) sends the same
// request to hono.

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

/**
 * Sends the head with `Expect: 100-continue`, the body only once the server says `100 Continue`,
 * and resolves with the statuses of every reply until the server closes the connection.
 */
function statuses(method: string, path: string, headers: string, body: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${headers}` +
      `content-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n`;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    let sent = false;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      text += d;
      if (!sent && text.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
        sent = true;
        socket.write(body);
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))));
  });
}

const facts = JSON.stringify({ facts: { queue: { depth: 1 } } });
const put = JSON.stringify({ policy: "queue-worker" });
const json = "content-type: application/json\r\n";

describe("Expect: 100-continue, refused for a header after the token", () => {
  test.each([
    [
      "facts, a content type not JSON",
      "POST",
      "/v1/objects/w1/facts",
      TOKENS.facts,
      "content-type: text/plain\r\n",
      facts,
      415,
    ],
    [
      "facts, an Idempotency-Key with a space",
      "POST",
      "/v1/objects/w1/facts",
      TOKENS.facts,
      `${json}idempotency-key: a b\r\n`,
      facts,
      422,
    ],
    [
      "facts, an If-Match that never holds",
      "POST",
      "/v1/objects/w1/facts",
      TOKENS.facts,
      `${json}if-match: "x"\r\n`,
      facts,
      412,
    ],
    [
      "facts, an If-Match that never holds, to a missing object",
      "POST",
      "/v1/objects/nope/facts",
      TOKENS.facts,
      `${json}if-match: "x"\r\n`,
      facts,
      404,
    ],
    ["PUT, a content type not JSON", "PUT", "/v1/objects/w1", TOKENS.objects, "content-type: text/plain\r\n", put, 415],
    [
      "PUT, an If-Match that never holds",
      "PUT",
      "/v1/objects/w1",
      TOKENS.objects,
      `${json}if-match: "x"\r\n`,
      put,
      412,
    ],
  ])("%s: the refusal without a 100, on both doors", async (_what, method, path, token, headers, body, status) => {
    const auth = `authorization: Bearer ${token}\r\n`;
    const fast = await statuses(method, path, auth + headers, body);
    const hono = await statuses(method, path, auth + headers + "x-dup: 1\r\nx-dup: 2\r\n", body);
    expect(hono).toEqual([status]);
    // Without the change the fast path invites the body first: [100, status].
    expect(fast).toEqual([status]);
  });

  test.each([
    ["facts", "POST", "/v1/objects/w1/facts", TOKENS.facts, facts, 200],
    ["PUT", "PUT", "/v1/objects/w1", TOKENS.objects, put, 200],
  ])("%s let through: invited, then answered, on both doors", async (_what, method, path, token, body, status) => {
    const auth = `authorization: Bearer ${token}\r\n${json}`;
    expect(await statuses(method, path, auth, body)).toEqual([100, status]);
    expect(await statuses(method, path, auth + "x-dup: 1\r\nx-dup: 2\r\n", body)).toEqual([100, status]);
  });
});
