// A patch or a memory that breaks a limit is refused with at most MAX_LIMIT_PROBLEMS problems of
// its values (and the size's), as a request body is: a body of numbers too large to keep was
// refused with one problem per number, a reply twenty times the body's size, or, under a few
// long keys, a message longer than a string may be, which failed as if the policy had.

import { afterAll, beforeAll, expect, test } from "vitest";
import { MAX_LIMIT_PROBLEMS } from "../../src/core/memory-limits.ts";
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
  expect(problem.detail).toBe("the facts break a memory limit");
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
