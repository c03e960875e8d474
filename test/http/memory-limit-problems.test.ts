// A patch or a memory that breaks a limit is refused with at most MAX_LIMIT_PROBLEMS problems of
// its values (and the size's), as a request body is: a body of numbers too large to keep was
// refused with one problem per number, a reply twenty times the body's size, or, under a few
// long keys, a message longer than a string may be, which failed as if the policy had.

import { afterAll, beforeAll, expect, test } from "vitest";
import { MAX_LIMIT_PROBLEMS } from "../../src/core/memory-limits.ts";
import { MAX_HUGE_NUMBERS } from "../../src/http/validation.ts";
import { expectProblem, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

/** `{"a": [1e999, 1e999, ...]}`: each number reads as Infinity, which memory cannot keep. */
const infinities = (n: number) => `{"a":[${Array(n).fill("1e999").join(",")}]}`;

test("POST facts with 5,000 numbers too large to keep: a 422 naming the first few", async () => {
  const reply = await h.call("POST", "/v1/objects/w1/facts", {
    raw: `{"facts":${infinities(5000)}}`,
    headers: { "content-type": "application/json" },
  });
  const problem = expectProblem(reply, 422, "validation");
  // So many are refused with the body, before the facts are read (parseJsonBody).
  expect(problem.detail).toBe("the request body is not acceptable");
  expect(problem.errors.length).toBeLessThanOrEqual(MAX_LIMIT_PROBLEMS + 1);
  expect(problem.errors[0]).toEqual({
    path: "$.facts.a[0]",
    message: expect.stringContaining("the number is too large to store"),
  });
  expect(reply.text.length).toBeLessThan(10_000);
  // Nothing changed.
  expect((await h.call("GET", "/v1/objects/w1")).body.memoryVersion).toBe(0);
});

test("PUT with an initial memory of 5,000 such numbers: the same", async () => {
  const reply = await h.call("PUT", "/v1/objects/w2", {
    raw: `{"policy":"queue-worker","memory":${infinities(5000)}}`,
    headers: { "content-type": "application/json" },
  });
  const problem = expectProblem(reply, 422, "validation");
  expect(problem.errors.length).toBeLessThanOrEqual(MAX_LIMIT_PROBLEMS + 1);
  expect((await h.call("GET", "/v1/objects/w2")).status).toBe(404);
});

test.each([
  ["POST", "/v1/objects/w1/evaluate", (n: number) => `{"facts":${infinities(n)}}`],
  [
    "POST",
    "/v1/policies/validate",
    (n: number) => `{"policy":{"name":"p","version":"1","rules":[],"defaults":${infinities(n)}}}`,
  ],
  ["PUT", "/v1/objects/w3", (n: number) => `{"policy":"queue-worker","memory":${infinities(n)}}`],
] as const)("%s %s with 5,000 numbers past the double range: refused with the body", async (method, path, body) => {
  // Left to the route's schema, each such number cost zod an error of every branch of its JSON
  // schema (about 15 µs): a 1 MiB body of them held the event loop for seconds, and evaluate
  // and validate take a `read` token. A few are still the route's to word (plain-errors.test.ts).
  const reply = await h.call(method, path, { raw: body(5000), headers: { "content-type": "application/json" } });
  const problem = expectProblem(reply, 422, "validation");
  expect(problem.detail).toBe("the request body is not acceptable");
  expect(problem.errors).toHaveLength(MAX_HUGE_NUMBERS);
  expect(problem.errors[0].message).toContain("the number is too large to store");
});
