// The OpenAPI document describes PUT /v1/objects/{id}'s `memory` as the server treats it: the
// initial memory of a new object, and on an existing one the same memory or a 409. It said the
// memory was "ignored when the object exists", which the route's own 409 contradicted.

import { afterEach, beforeEach, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

test("the served description of PUT's memory says what a differing memory gets", async () => {
  const doc = (await h.call("GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>>;
  };
  const schema = doc.paths["/v1/objects/{id}"]!.put!.requestBody.content["application/json"]!.schema as {
    properties: { memory: { description: string } };
  };
  const said = schema.properties.memory.description;
  expect(said).not.toMatch(/ignored/);
  expect(said).toMatch(/409/);
  // And the server does what it says.
  await h.services.governor.putObject("w1", { policy: "queue-worker", memory: { a: 1 } });
  const put = (memory: object) => h.call("PUT", "/v1/objects/w1", { json: { policy: "queue-worker", memory } });
  expect((await put({ a: 1 })).status).toBe(200);
  expect((await put({ a: 2 })).status).toBe(409);
});
