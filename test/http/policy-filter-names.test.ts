// The `policy` filter of GET /v1/objects and GET /v1/usage took any string: `?policy=a,b` (a
// list, which a client might expect to match either), one with a space, or 5,000 characters was
// a 200 with nothing in it, since no policy's name can hold them, where `objectId` on
// GET /v1/events refuses an id no object can have. Policy names have a pattern (NAME_PATTERN,
// docs/policy-authors.md): a filter outside it is now a 422 at $.query.policy.

import { afterAll, beforeAll, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

const get = (path: string) => rawRequest(served.port, { method: "GET", path });

const MESSAGE = "policy names are 1-64 characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit";

test.each([
  ["a list", "queue-worker,on-demand"],
  ["a space", "queue%20worker"],
  ["65 characters", "a".repeat(65)],
  ["5,000 characters", "a".repeat(5000)],
  ["a leading dot", ".queue-worker"],
])("?policy= with %s is a 422 at $.query.policy on both listings", async (_label, policy) => {
  for (const route of ["/v1/objects", "/v1/usage"]) {
    const reply = await get(`${route}?policy=${policy}`);
    expect(reply.status, `${route}: ${reply.text.slice(0, 300)}`).toBe(422);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(reply.text).errors).toEqual([{ path: "$.query.policy", message: MESSAGE }]);
  }
});

test("a policy's name still filters, and a name no policy has lists nothing", async () => {
  const objects = JSON.parse((await get("/v1/objects?policy=queue-worker")).text);
  expect(objects.items.map((o: { id: string }) => o.id)).toEqual(["w1"]);
  expect((await get("/v1/usage?policy=queue-worker")).status).toBe(200);
  expect(JSON.parse((await get("/v1/objects?policy=no-such-policy")).text)).toEqual({ items: [] });
  expect((await get("/v1/usage?policy=no-such-policy")).status).toBe(200);
});
