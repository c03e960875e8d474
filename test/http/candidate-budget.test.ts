// A `read` token may send a candidate policy to evaluate and replay. A few kilobytes of shared
// conditions that expand to billions of nodes are refused with a 422 before anything runs.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_CONDITION_NODES } from "../../src/contracts/policy-budget.ts";
import { expectProblem, setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup({ tokens: TOKEN_CONFIG });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

/** c0 = a fact, c(n) = all[c(n-1), c(n-1)]: json-rules-engine would realise 2^31 nodes and more. */
function bomb(levels: number) {
  const conditions: Record<string, unknown> = {
    c0: { all: [{ fact: "memory", path: "$.x", operator: "equal", value: 1 }] },
  };
  for (let i = 1; i <= levels; i++)
    conditions[`c${i}`] = { all: [{ condition: `c${i - 1}` }, { condition: `c${i - 1}` }] };
  return {
    name: "queue-worker",
    version: "bomb",
    conditions,
    rules: [{ name: "boom", conditions: { condition: `c${levels}` }, event: { type: "wake" } }],
  };
}

describe("a candidate that expands past the budget", () => {
  test.each(["evaluate", "replay"])("POST /v1/objects/{id}/%s answers 422 before anything runs", async (route) => {
    const policy = bomb(30);
    expect(JSON.stringify(policy).length).toBeLessThan(3000);
    // Counted, not expanded: the reply names 5,368,709,118 nodes (a walk through them would not
    // end within the test's timeout; test/contracts/policy-budget.test.ts counts the reads).
    const reply = await h.call("POST", `/v1/objects/w1/${route}`, { json: { policy }, token: TOKENS.read });
    const problem = expectProblem(reply, 422, "validation");
    const limit = `at most ${MAX_CONDITION_NODES} are allowed`;
    expect(problem.errors).toContainEqual({
      path: "$.policy.conditions.c11",
      message: `expands to 10237 condition nodes, shared conditions counted at every reference: ${limit}`,
    });
    expect(problem.errors).toContainEqual({
      path: "$.policy.rules",
      message: `the rules expand to 5368709118 condition nodes, shared conditions counted at every reference: ${limit}`,
    });
  });

  test("POST /v1/policies/validate reports the same limit", async () => {
    const reply = await h.call("POST", "/v1/policies/validate", { json: bomb(30), token: TOKENS.read });
    const problem = expectProblem(reply, 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([
      "$.conditions.c11",
      "$.conditions.c16",
      "$.rules[0].conditions",
      "$.rules",
    ]);
  });

  test("a candidate within the budget still evaluates", async () => {
    const reply = await h.call("POST", "/v1/objects/w1/evaluate", {
      json: { policy: bomb(10), facts: { x: 1 } },
      token: TOKENS.read,
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.decision.fired.map((f: { rule: string }) => f.rule)).toEqual(["boom"]);
  });
});
