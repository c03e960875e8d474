// A PUT naming a policy whose file the server refused: the likelier story for an author who has
// just written the file with a mistake. A review found the 422 saying only that no such policy
// was loaded, while GET /v1/policies/{name} told of the refusal.

import { afterEach, beforeEach, expect, test } from "vitest";
import { expectProblem, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

test("a PUT naming a policy whose file was refused says the file was refused", async () => {
  const loaded = h.services.policies.loadText(
    JSON.stringify({ name: "broken", version: "1", rules: [] }),
    "/rules/broken.json",
  );
  expect(loaded.ok).toBe(false);
  const reply = await h.call("PUT", "/v1/objects/w1", { json: { policy: "broken" } });
  const problem = expectProblem(reply, 422, "validation");
  expect(problem.detail).toBe('policy "broken" is not loaded');
  expect(problem.errors).toEqual([
    {
      path: "$.policy",
      message: 'no loaded policy named "broken": /rules/broken.json was refused (GET /v1/policies/broken says why)',
    },
  ]);
  expect((await h.call("GET", "/v1/objects/w1")).status).toBe(404);
});

test("a PUT naming a policy no file holds says only that", async () => {
  const reply = await h.call("PUT", "/v1/objects/w1", { json: { policy: "no-such-policy" } });
  const problem = expectProblem(reply, 422, "validation");
  expect(problem.errors).toEqual([{ path: "$.policy", message: 'no loaded policy named "no-such-policy"' }]);
});
