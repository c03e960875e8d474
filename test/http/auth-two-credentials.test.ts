// Two credentials in Authorization (the field sent twice, which hono's adapter joins with a comma,
// or one field holding two): RFC 9110 allows one. Both doors refuse it with a 400 that says so,
// not with a 401 saying a token is needed, though tokens were sent.

import { afterEach, describe, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const TWO = /two credentials|more than one credential/;

describe("two credentials in Authorization", () => {
  test.each([
    ["sent as two fields", [`Bearer ${TOKENS.read}`, `Bearer ${TOKENS.admin}`]],
    ["joined in one field", `Bearer ${TOKENS.read}, Bearer ${TOKENS.admin}`],
  ])("%s: a 400 problem saying so, on every route of both doors, and nothing done", async (_label, authorization) => {
    const served = await servedDoors(TOKEN_CONFIG, 4096);
    close = served.close;
    const json = { "content-type": "application/json" };
    for (const [method, path, body] of [
      ["DELETE", "/v1/objects/w1", undefined],
      ["GET", "/v1/objects", undefined],
      ["PUT", "/v1/objects/w2", JSON.stringify({ policy: "queue-worker" })],
      ["POST", "/v1/objects/w1/facts", JSON.stringify({ facts: { queue: { depth: 3 } } })],
    ] as const) {
      const reply = await rawRequest(served.port, {
        method,
        path,
        headers: { ...json, authorization },
        ...(body !== undefined ? { body } : {}),
      });
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
