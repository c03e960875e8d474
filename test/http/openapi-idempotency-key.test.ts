// The API document states the Idempotency-Key rule the server holds keys to: 1-200 printable ASCII
// characters, no spaces. Found in a review: a batch item's `idempotencyKey` was published as any
// string, though a key outside the rule refuses the whole batch (a 422, nothing applied), and the
// header's description said "printable ASCII" without "no spaces", where a space is one. Over real
// HTTP: the document's pattern for the item's key must predict which batches the server takes.

import { afterEach, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

test("the document's rule for an idempotency key is the one the server holds keys to", async () => {
  const served = await servedDoors([], 1 << 20);
  close = served.close;
  const doc = JSON.parse((await rawRequest(served.port, { method: "GET", path: "/openapi.json" })).text);

  const header = doc.paths["/v1/objects/{id}/facts"].post.parameters.find(
    (p: { name: string }) => p.name === "Idempotency-Key",
  );
  expect(header.description).toMatch(/^1-200 printable ASCII characters, no spaces/);

  const item = doc.paths["/v1/facts"].post.requestBody.content["application/json"].schema.properties.items.items;
  const key = item.properties.idempotencyKey;
  expect(key.type).toBe("string");
  expect(typeof key.pattern).toBe("string");
  const pattern = new RegExp(key.pattern, "u");

  const keys = ["k-1", "~!#$%&'()*+,./:;<=>?@[]^_`{|}", "a b", "tab\there", "", "k".repeat(200), "k".repeat(201), "é"];
  const taken: [string, boolean, boolean][] = [];
  for (const [i, k] of keys.entries()) {
    const r = await rawRequest(served.port, {
      method: "POST",
      path: "/v1/facts",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ objectId: "w1", facts: { i }, idempotencyKey: k }] }),
    });
    if (r.status === 422) {
      const problem = JSON.parse(r.text);
      expect(problem.errors).toEqual([
        { path: "$.items[0].idempotencyKey", message: header.description.split(":")[0] },
      ]);
    } else expect(r.status).toBe(200);
    taken.push([k.slice(0, 20), pattern.test(k), r.status === 200]);
  }
  // Each key: what the document says of it, and what the server did with it.
  expect(taken.map(([k, documented, served]) => [k, documented === served])).toEqual(taken.map(([k]) => [k, true]));
  expect(taken.filter(([, , served]) => served).length).toBe(3);
});
