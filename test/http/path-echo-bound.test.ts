// A 404 for a path no route serves, and a 405 for a method a route does not take, echoed the
// request's whole path in their detail (16 KB of it, for a path that long), where the routes cut
// the ids and names they echo (GET /v1/decisions/<id>, /v1/policies/<name>) at 128 characters.
// They now cut it alike. Real HTTP.

import { afterEach, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const LONG = "a".repeat(16_000);

test.each([
  ["no route", "GET", `/v1/nothing/${LONG}`, 404, /^no route for GET \/v1\/nothing\/a+\.\.\.$/],
  [
    "a method not allowed",
    "PATCH",
    `/v1/objects/${LONG}`,
    405,
    /^PATCH is not allowed on \/v1\/objects\/a+\.\.\.; allowed: /,
  ],
  ["control: no such decision", "GET", `/v1/decisions/${LONG}`, 404, /^decision "a{128}" not found$/],
  ["control: no such policy", "GET", `/v1/policies/${LONG}`, 404, /^policy "a{128}" is not loaded$/],
])(
  "%s, for a 16 KB path: the detail tells at most 128 characters of it",
  async (_label, method, path, status, detail) => {
    const served = await servedDoors(TOKEN_CONFIG, 4096);
    close = served.close;
    const reply = await rawRequest(served.port, { method, path, headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(reply.status, reply.text.slice(0, 300)).toBe(status);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    const problem = JSON.parse(reply.text);
    expect(problem.detail).toMatch(detail);
    expect(problem.detail.length).toBeLessThan(300);
  },
);
