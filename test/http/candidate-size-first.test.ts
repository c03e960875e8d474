// A candidate policy (validate, evaluate, replay) over MAX_POLICY_CHARS is refused for its size
// before the walks of the body (checkDocument's two, the scan for keys written twice), which
// took a 1 MiB candidate from any `read` token 0.15-0.3 s of the event loop. Shown by what the
// refusal names, not by time: each body below also holds what one of those walks refuses (a key
// written twice, a `__proto__` key, numbers past the double range), at its end; a walk that ran
// would answer with that instead of the size.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_POLICY_CHARS } from "../../src/contracts/policy-budget.ts";
import { DEFAULT_BODY_LIMIT } from "../../src/http/app.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { queueWorkerPolicy, servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, DEFAULT_BODY_LIMIT, false);
  ({ port } = served);
});
afterAll(() => served.close());

/** The example policy as JSON text with a description of `chars` characters, and `tail` written in after it. */
function bigPolicy(chars: number, tail: string): string {
  const text = JSON.stringify({ ...queueWorkerPolicy(), description: "x".repeat(chars) });
  return `${text.slice(0, -1)},${tail}}`;
}

const TAILS: [string, string][] = [
  ["a key written twice", '"name":"queue-worker"'],
  ["a __proto__ key", '"__proto__":{}'],
  ["numbers past the double range", `"extra":[${Array(30).fill("1e999").join(",")}]`],
];

const ROUTES: [string, (policy: string) => string, string, string][] = [
  ["/v1/policies/validate", (p) => p, "the policy is invalid", "$"],
  ["/v1/objects/w1/evaluate", (p) => `{"policy":${p}}`, "the candidate policy is invalid", "$.policy"],
  ["/v1/objects/w1/replay", (p) => `{"policy":${p}}`, "the candidate policy is invalid", "$.policy"],
];

describe(`a candidate over ${MAX_POLICY_CHARS} characters is refused for its size before the body is walked`, () => {
  for (const [route, body, detail, path] of ROUTES)
    test.each(TAILS)(`POST ${route}, with %s too`, async (_what, tail) => {
      // Nearly the body limit, as the report had it (1 MiB).
      const sent = body(bigPolicy(DEFAULT_BODY_LIMIT - 4096, tail));
      expect(Buffer.byteLength(sent)).toBeLessThanOrEqual(DEFAULT_BODY_LIMIT);
      const reply = await rawRequest(port, {
        method: "POST",
        path: route,
        headers: { authorization: `Bearer ${TOKENS.read}`, "content-type": "application/json" },
        body: sent,
      });
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      const problem = JSON.parse(reply.text);
      expect({ status: reply.status, detail: problem.detail, errors: problem.errors }).toEqual({
        status: 422,
        detail,
        errors: [
          {
            path,
            message: expect.stringMatching(
              new RegExp(`^the policy is at least \\d+ characters of JSON: at most ${MAX_POLICY_CHARS} are allowed$`),
            ),
          },
        ],
      });
    });

  test("one within the size is still walked: its key written twice is named", async () => {
    const reply = await rawRequest(port, {
      method: "POST",
      path: "/v1/policies/validate",
      headers: { authorization: `Bearer ${TOKENS.read}`, "content-type": "application/json" },
      body: bigPolicy(1000, '"name":"queue-worker"'),
    });
    expect(reply.status).toBe(422);
    expect(JSON.parse(reply.text).detail).toBe("the request body writes a key twice in one object");
  });
});
