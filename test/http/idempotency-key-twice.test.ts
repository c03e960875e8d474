// An Idempotency-Key header sent twice arrives joined (`k1, k2`) and is refused for its space:
// the 422 says the header came more than once, rather than that a key may hold no spaces (each
// key sent held none). Nothing is applied. Real HTTP, through the fast path and through hono.

import { afterEach, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>> | null = null;
afterEach(async () => {
  await served?.close();
  served = null;
});

test.each([true, false])("with the fast path %s: a 422 saying the key was sent more than once", async (fast) => {
  served = await servedDoors([], 1 << 20, fast);
  const reply = await rawRequest(served.port, {
    method: "POST",
    path: "/v1/objects/w1/facts",
    headers: { "content-type": "application/json", "idempotency-key": ["job-1", "job-2"] },
    body: '{"facts":{"n":1}}',
  });
  expect(reply.status).toBe(422);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(JSON.parse(reply.text).errors).toEqual([
    { path: "$.headers.Idempotency-Key", message: expect.stringContaining("sent more than once") },
  ]);
  expect((await served.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
});

test("a key with a space, sent once, is still told the key rule", async () => {
  served = await servedDoors([], 1 << 20);
  const reply = await rawRequest(served.port, {
    method: "POST",
    path: "/v1/objects/w1/facts",
    headers: { "content-type": "application/json", "idempotency-key": "job 1" },
    body: '{"facts":{"n":1}}',
  });
  expect(reply.status).toBe(422);
  expect(JSON.parse(reply.text).errors[0].message).toContain("no spaces");
});

test.each([true, false])(
  "with the fast path %s: a key holding a comma and a space, sent once, is told the key rule, not that it came twice",
  async (fast) => {
    served = await servedDoors([], 1 << 20, fast);
    const reply = await rawRequest(served.port, {
      method: "POST",
      path: "/v1/objects/w1/facts",
      headers: { "content-type": "application/json", "idempotency-key": "job, 1" },
      body: '{"facts":{"n":1}}',
    });
    expect(reply.status).toBe(422);
    const [problem] = JSON.parse(reply.text).errors;
    expect(problem.path).toBe("$.headers.Idempotency-Key");
    expect(problem.message).toContain("no spaces");
    expect(problem.message).not.toContain("more than once");
    expect((await served.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
  },
);
