// A Bearer credential not as RFC 6750 writes it (`Bearer <token> extra`, a tab after `Bearer`)
// was a 401 saying "this route needs a bearer token", though a token was sent: its client went
// looking for a missing token. Both doors now answer RFC 6750's `invalid_request` (in a 401, which
// the dashboard and the CLI take as a token to give again), saying the credential is malformed and
// how to write it; another scheme (Basic) is told that its credential is not a bearer token,
// and a request with none is still told it needs one.

import { afterEach, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const ROUTES = [
  ["GET", "/v1/objects", undefined],
  ["POST", "/v1/objects/w1/facts", JSON.stringify({ facts: { queue: { depth: 3 } } })],
] as const;

const send = (port: number, method: string, path: string, body: string | undefined, authorization?: string) =>
  rawRequest(port, {
    method,
    path,
    headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
    ...(body !== undefined ? { body } : {}),
  });

test.each([
  ["a word after the token", `Bearer ${TOKENS.admin} extra`],
  ["a tab after Bearer", `Bearer\t${TOKENS.admin}`],
  ["two tokens", `Bearer ${TOKENS.read} ${TOKENS.admin}`],
])("%s: a 401 invalid_request saying the bearer credential is malformed, on both doors", async (_label, header) => {
  const served = await servedDoors(TOKEN_CONFIG, 4096);
  close = served.close;
  for (const [method, path, body] of ROUTES) {
    const reply = await send(served.port, method, path, body, header);
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBe(401);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    const problem = JSON.parse(reply.text);
    expect(problem.type).toBe("https://vigil.dev/problems/unauthorized");
    expect(problem.detail).toMatch(/not a well-formed bearer credential/);
    expect(problem.detail).not.toMatch(/needs a bearer token/);
    expect(reply.headers["www-authenticate"]).toBe('Bearer realm="vigil", error="invalid_request"');
    expect(reply.text).not.toContain(TOKENS.admin);
  }
});

test("another scheme is told it is not a bearer token; none, that the route needs one", async () => {
  const served = await servedDoors(TOKEN_CONFIG, 4096);
  close = served.close;
  for (const [method, path, body] of ROUTES) {
    const basic = await send(served.port, method, path, body, "Basic b3BzOnNlY3JldA==");
    expect(basic.status).toBe(401);
    expect(JSON.parse(basic.text).detail).toMatch(/needs a bearer token .*the Authorization header sent is not one/);
    expect(basic.headers["www-authenticate"]).toBe('Bearer realm="vigil"');
    for (const none of [undefined, "Bearer"]) {
      const missing = await send(served.port, method, path, body, none);
      expect(missing.status).toBe(401);
      expect(JSON.parse(missing.text).detail).toBe("this route needs a bearer token (Authorization: Bearer <token>)");
    }
    const ok = await send(served.port, method, path, body, `Bearer ${TOKENS.admin}`);
    expect(ok.status, ok.text).toBeLessThan(300);
  }
});
