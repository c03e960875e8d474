// An Idempotency-Key's fingerprint told `{"a":1e400}` (a number past the double range, refused
// as memory) from `{"a":null}`: JSON.stringify writes Infinity as null, so a refused number was
// answered 200 as a replay of another patch. Now it is the key used with a different body: 409.
import { afterEach, beforeEach, expect, test } from "vitest";
import { canonicalJson } from "../../src/core/json.ts";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(() => h.close());

const raw = (path: string, body: string, headers: Record<string, string> = {}) =>
  h.call("POST", path, { raw: body, headers: { "content-type": "application/json", ...headers } });

test("POST facts: {a: 1e400} under a key first used with {a: null} is refused, not replayed", async () => {
  const first = await raw("/v1/objects/w1/facts", '{"facts":{"a":null}}', { "idempotency-key": "k1" });
  expect(first.status).toBe(200);
  // Without the key, this body is a 422 naming $.facts.a.
  expect((await raw("/v1/objects/w1/facts", '{"facts":{"a":1e400}}')).status).toBe(422);
  const second = await raw("/v1/objects/w1/facts", '{"facts":{"a":1e400}}', { "idempotency-key": "k1" });
  expect(second.headers.get("idempotent-replayed")).toBeNull();
  expect(second.status).toBe(409);
});

test("POST /v1/facts: the same collision in a batch item", async () => {
  const item = (facts: string) => `{"items":[{"objectId":"w1","idempotencyKey":"k2","facts":${facts}}]}`;
  const first = await raw("/v1/facts", item('{"a":null}'));
  expect(first.body.results[0].decisionId).toEqual(expect.any(String));
  const second = await raw("/v1/facts", item('{"a":1e400}'));
  expect(second.body.results[0].error?.status).toBe(409);
});

test("canonical JSON writes a number JSON cannot hold by its name, not as null", () => {
  expect([Infinity, -Infinity, NaN, null].map((v) => canonicalJson({ a: v }))).toEqual([
    '{"a":Infinity}',
    '{"a":-Infinity}',
    '{"a":NaN}',
    '{"a":null}',
  ]);
});
