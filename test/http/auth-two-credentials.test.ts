// Two credentials in Authorization (the field sent twice, which hono's adapter joins with a comma,
// or one field holding two): RFC 9110 allows one. Both doors refuse it with a 400 that says so,
// not with a 401 saying a token is needed, though tokens were sent. One credential of another
// scheme, whose parameters are comma-separated (Digest, AWS's SigV4), is one credential: a 401
// whose Bearer challenge tells its client which scheme to use, not a 400 saying it sent two.

import { afterEach, describe, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const TWO = /two credentials|more than one credential/;

/** A request with a JSON body (or none) and the given Authorization field(s). */
const send = (port: number, method: string, path: string, body: string | undefined, authorization: string | string[]) =>
  rawRequest(port, {
    method,
    path,
    headers: { "content-type": "application/json", authorization },
    ...(body !== undefined ? { body } : {}),
  });

describe("two credentials in Authorization", () => {
  test.each([
    ["sent as two fields", [`Bearer ${TOKENS.read}`, `Bearer ${TOKENS.admin}`]],
    ["joined in one field", `Bearer ${TOKENS.read}, Bearer ${TOKENS.admin}`],
    // An empty field beside a token's (hono's adapter joins them, `Bearer X, `): a 401 saying the
    // token, a valid one, "is not valid", or, the empty one first, that the route needs a token.
    ["sent as two fields, the second empty", [`Bearer ${TOKENS.admin}`, ""]],
    ["sent as two fields, the first empty", ["", `Bearer ${TOKENS.admin}`]],
  ])("%s: a 400 problem saying so, on every route of both doors, and nothing done", async (_label, authorization) => {
    const served = await servedDoors(TOKEN_CONFIG, 4096);
    close = served.close;
    for (const [method, path, body] of [
      ["DELETE", "/v1/objects/w1", undefined],
      ["GET", "/v1/objects", undefined],
      ["PUT", "/v1/objects/w2", JSON.stringify({ policy: "queue-worker" })],
      ["POST", "/v1/objects/w1/facts", JSON.stringify({ facts: { queue: { depth: 3 } } })],
    ] as const) {
      const reply = await send(served.port, method, path, body, authorization);
      expect(reply.status, `${method} ${path}: ${reply.text}`).toBe(400);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      const problem = JSON.parse(reply.text);
      expect(problem.type).toBe("https://vigil.dev/problems/malformed-request");
      expect(problem.detail).toMatch(TWO);
      expect(reply.headers["www-authenticate"]).toBe('Bearer realm="vigil", error="invalid_request"');
      expect(reply.text).not.toContain(TOKENS.read);
    }
    // Nothing was done: w1 is still there, w2 was not made.
    const ok = { authorization: `Bearer ${TOKENS.admin}` };
    expect((await rawRequest(served.port, { method: "GET", path: "/v1/objects/w1", headers: ok })).status).toBe(200);
    expect((await rawRequest(served.port, { method: "GET", path: "/v1/objects/w2", headers: ok })).status).toBe(404);
  });

  test("one credential of another scheme, with its comma-separated parameters, is a 401 on both doors", async () => {
    const served = await servedDoors(TOKEN_CONFIG, 4096);
    close = served.close;
    for (const authorization of [
      'Digest username="ops", realm="vigil", nonce="dcd98b7102dd2f0e", uri="/v1/objects", qop="auth,auth-int", response="6629fae4"',
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/us-east-1/vigil/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    ])
      for (const [method, path, body] of [
        ["GET", "/v1/objects", undefined],
        ["POST", "/v1/objects/w1/facts", JSON.stringify({ facts: { queue: { depth: 3 } } })],
      ] as const) {
        const reply = await send(served.port, method, path, body, authorization);
        expect(reply.status, `${method} ${path} ${authorization}: ${reply.text}`).toBe(401);
        expect(JSON.parse(reply.text).detail).toMatch(/needs a bearer token/);
        expect(reply.headers["www-authenticate"]).toBe('Bearer realm="vigil"');
      }
    // A Bearer credential after another's parameters is a second one.
    const two = await rawRequest(served.port, {
      method: "GET",
      path: "/v1/objects",
      headers: { authorization: `Digest username="ops", realm="vigil", Bearer ${TOKENS.admin}` },
    });
    expect(two.status).toBe(400);
    expect(JSON.parse(two.text).detail).toMatch(TWO);
    // Nothing was applied by the refused facts.
    const ok = { authorization: `Bearer ${TOKENS.admin}` };
    const w1 = await rawRequest(served.port, { method: "GET", path: "/v1/objects/w1", headers: ok });
    expect(JSON.parse(w1.text).memoryVersion).toBe(0);
  });

  test("one credential is served as before, a trailing comma alone is no second one", async () => {
    const served = await servedDoors(TOKEN_CONFIG, 4096);
    close = served.close;
    const get = (authorization: string) =>
      rawRequest(served.port, { method: "GET", path: "/v1/objects", headers: { authorization } });
    expect((await get(`Bearer ${TOKENS.read}`)).status).toBe(200);
    const trailing = await get(`Bearer ${TOKENS.read},`);
    expect(trailing.status).toBe(401);
    expect(JSON.parse(trailing.text).detail).not.toMatch(TWO);
  });
});
