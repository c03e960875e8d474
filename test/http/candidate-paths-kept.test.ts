// A candidate policy whose compiled rules throw is run again on json-rules-engine, whose path
// resolver (core/paths.ts resolvePath) keeps the paths it has parsed. A `read` token may send
// one with a path as long as a policy may be: the cache keeps no such path, so that candidates
// cannot fill it with gigabytes (10,000 paths of 240,000 characters each, each kept twice over).

import { afterAll, beforeAll, expect, test } from "vitest";
import { PATH_CACHE_MAX_CHARS, pathCacheSize } from "../../src/core/paths.ts";
import { expectProblem, setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup({ tokens: TOKEN_CONFIG });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

/** A long path first, then `in` on a value naming a missing fact path: a TypeError on both engines. */
function candidate(n: number) {
  const long = `$.k${n}${"x".repeat(100_000)}`;
  return {
    name: "queue-worker",
    version: `long-path-${n}`,
    rules: [
      {
        name: "r",
        conditions: {
          all: [
            { fact: "memory", path: long, operator: "equal", value: 1 },
            { fact: "state", operator: "in", value: { fact: "memory", path: "$.missing" } },
          ],
        },
        event: { type: "wake" },
      },
    ],
  };
}

test("paths of candidates run on json-rules-engine are not kept when they are long", async () => {
  const before = pathCacheSize();
  for (let n = 0; n < 5; n++) {
    const reply = await h.call("POST", "/v1/objects/w1/evaluate", {
      json: { policy: candidate(n) },
      token: TOKENS.read,
    });
    // json-rules-engine ran it (and threw as the compiled rules did): the evaluation fails.
    expectProblem(reply, 422, "validation");
    expect(reply.body.detail).toMatch(/failed/);
  }
  const after = pathCacheSize();
  expect(after.chars - before.chars).toBeLessThanOrEqual((after.entries - before.entries) * PATH_CACHE_MAX_CHARS);
  expect(after.chars).toBeLessThan(100_000);
});
