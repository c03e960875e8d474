// `Expect: 100-continue`: the client waits to be invited before it sends the body. A request the
// server will refuse (no token, a token that is not valid, one without the route's scope, a body
// longer than the limit) gets its refusal and no 100, and the connection closes after it;
// one let through is invited, sends its body and is answered. On both doors: the fast path
// (POST .../facts) and hono (POST /v1/policies/validate).

import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TestServices } from "../helpers/services.ts";
import { queueWorkerPolicy, servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

const LIMIT = 64 * 1024;
let served: Awaited<ReturnType<typeof servedDoors>>;
let services: TestServices;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, LIMIT);
  ({ services, port } = served);
});
afterAll(() => served.close());

function head(path: string, token: string | undefined, length: number, method = "POST"): string {
  return (
    `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
    `content-length: ${length}\r\nexpect: 100-continue\r\n` +
    (token === undefined ? "" : `authorization: Bearer ${token}\r\n`) +
    "\r\n"
  );
}

/** Sends the head alone and resolves with all the server sends until it closes the connection. */
function headOnly(path: string, token: string | undefined, length: number, method = "POST"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head(path, token, length, method)));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

/**
 * Sends the head, the body once the server says `100 Continue` (and not before), and resolves
 * with all the server sends until it closes the connection (the request says `connection:
 * close`).
 */
function invited(path: string, token: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write(head(path, token, Buffer.byteLength(body)).replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n")),
    );
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
    socket.on("close", () => resolve(text));
  });
}

const FACTS = "/v1/objects/w1/facts";
const VALIDATE = "/v1/policies/validate";
const facts = JSON.stringify({ facts: { queue: { depth: 1 } } });

describe("Expect: 100-continue", () => {
  test.each([
    ["facts (fast path), no token", FACTS, undefined, 401],
    ["facts (fast path), a token that is not valid", FACTS, "not-a-token-0123456789", 401],
    ["facts (fast path), a token without write:facts", FACTS, TOKENS.read, 403],
    ["validate (hono), no token", VALIDATE, undefined, 401],
    ["validate (hono), a token that is not valid", VALIDATE, "not-a-token-0123456789", 401],
    ["validate (hono), a body over the limit by its length", VALIDATE, TOKENS.read, 413],
  ] as const)("%s: the refusal, no 100, and the connection closes", async (_what, path, token, status) => {
    const length = status === 413 ? LIMIT + 1 : 100;
    const reply = await headOnly(path, token, length);
    // Without the change the reply starts with `HTTP/1.1 100 Continue`.
    expect(reply.split("\r\n")[0]).toBe(
      `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Payload Too Large"}`,
    );
    expect(reply).not.toContain("100 Continue");
    expect(reply).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
    expect(reply).toMatch(/\r\nconnection: close\r\n/i);
  });

  test("DELETE (which reads no body) without a token: the 401, no 100, and the connection closes", async () => {
    // Without the change the server waits for the DELETE's body, inviting it first.
    const reply = await headOnly("/v1/objects/w1", undefined, 100, "DELETE");
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect(reply).not.toContain("100 Continue");
    expect(reply).toMatch(/\r\nconnection: close\r\n/i);
    expect(await services.governor.getObject("w1")).not.toBeNull();
  });

  test("DELETE with a token that may: answered without its body, and the connection closes", async () => {
    await services.governor.putObject("d1", { policy: "queue-worker" });
    const reply = await headOnly("/v1/objects/d1", TOKENS.objects, 100, "DELETE");
    expect(reply.split("\r\n")[0]).toMatch(/^HTTP\/1\.1 20\d /);
    expect(reply).toMatch(/\r\nconnection: close\r\n/i);
    expect(await services.governor.getObject("d1")).toBeNull();
  });

  test.each([
    ["facts (fast path)", FACTS, TOKENS.facts, facts],
    ["validate (hono)", VALIDATE, TOKENS.read, JSON.stringify(queueWorkerPolicy())],
  ])("%s with a token that may: invited, then answered", async (_what, path, token, body) => {
    const reply = await invited(path, token, body);
    const lines = [...reply.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(lines).toEqual([100, 200]);
  });
});
