// A candidate policy (POST /v1/objects/{id}/evaluate, /replay) holding a number past the double
// range (`1e400`, which JSON.parse reads as Infinity) is refused, as POST /v1/policies/validate
// refuses it. The dry run and the replay accepted it: the candidate was serialized with
// JSON.stringify, which writes Infinity as `null`, and a policy other than the one sent ran.

import { afterAll, beforeAll, expect, test } from "vitest";
import { queueWorkerPolicy, setup, TOKEN_CONFIG, TOKENS, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup({ tokens: TOKEN_CONFIG });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

/** queue-worker whose backlog-wake fires for any depth below 1e400 (every finite number). */
function candidateText(): string {
  const p = queueWorkerPolicy();
  p.name = "candidate";
  p.rules[0].conditions.all[0] = { fact: "memory", path: "$.queue.depth", operator: "lessThan", value: "@BIG@" };
  return JSON.stringify(p).replace('"@BIG@"', "1e400");
}

const json = { "content-type": "application/json" };

test("validate refuses the document", async () => {
  const r = await h.call("POST", "/v1/policies/validate", { raw: candidateText(), headers: json, token: TOKENS.read });
  expect(r.status).toBe(422);
});

test("evaluate with the same document as candidate is refused too (not run with 1e400 read as null)", async () => {
  const r = await h.call("POST", "/v1/objects/w1/evaluate", {
    raw: `{"facts":{"queue":{"depth":3}},"policy":${candidateText()}}`,
    headers: json,
    token: TOKENS.read,
  });
  expect(r.status, r.text.slice(0, 300)).toBe(422);
});

test("replay with the same document as candidate is refused too", async () => {
  const r = await h.call("POST", "/v1/objects/w1/replay", {
    raw: `{"policy":${candidateText()}}`,
    headers: json,
    token: TOKENS.read,
  });
  expect(r.status, r.text.slice(0, 300)).toBe(422);
});

test("each refusal names the number's path", async () => {
  const v = await h.call("POST", "/v1/policies/validate", { raw: candidateText(), headers: json, token: TOKENS.read });
  const e = await h.call("POST", "/v1/objects/w1/evaluate", {
    raw: `{"facts":{"queue":{"depth":3}},"policy":${candidateText()}}`,
    headers: json,
    token: TOKENS.read,
  });
  const at = (r: { text: string }) => (JSON.parse(r.text) as { errors: { path: string; message: string }[] }).errors;
  expect(at(v)).toEqual([
    { path: "$.rules[0].conditions.all[0].value", message: expect.stringContaining("too large to represent") },
  ]);
  expect(at(e)).toEqual([
    { path: "$.policy.rules[0].conditions.all[0].value", message: expect.stringContaining("too large to represent") },
  ]);
});
