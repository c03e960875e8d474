// README (Problems): an `errors[].path` is a JSON path into the request body. An item of a batch
// that fails alone names its problems so too: `$.items[2].facts.a` on POST /v1/facts, as the
// batch's own 422 names `$.items[1].idempotencyKey` and a CloudEvents batch `$[2].data.a`. The
// items of POST /v1/facts named theirs from the item (`$.facts.a`, `$.objectId`), which no
// client could tell apart from one another or from a path into the body. Real HTTP on a port of
// its own, the fast path first (it hands batches to hono).

import { afterEach, beforeEach, expect, test } from "vitest";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeEach(async () => {
  served = await servedDoors([], 1 << 20);
});
afterEach(() => served.close());

async function post(path: string, contentType: string, body: string) {
  const res = await fetch(`http://127.0.0.1:${served.port}${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { error?: { errors?: { path: string }[] } }[] }).results;
}

const paths = (results: { error?: { errors?: { path: string }[] } }[]) =>
  results.map((r) => r.error?.errors?.map((e) => e.path) ?? null);

// Each bad in its own way: an id that is none, a forbidden key, a patch over 64 KiB, a patch that is not an object.
const big = "x".repeat(70_000);

test("POST /v1/facts: an item's problems are paths into the body", async () => {
  const items = [
    '{"objectId":"w1","facts":{"n":1}}',
    '{"objectId":"not an id","facts":{"n":1}}',
    '{"objectId":"w1","facts":{"a":{"__proto__":{"x":1}}}}',
    `{"objectId":"w1","facts":{"big":"${big}"}}`,
    '{"objectId":"..","facts":{"n":1}}',
  ];
  const results = await post("/v1/facts", "application/json", `{"items":[${items.join(",")}]}`);
  expect(paths(results)).toEqual([
    null,
    ["$.items[1].objectId"],
    ["$.items[2].facts.a.__proto__"],
    ["$.items[3].facts"],
    ["$.items[4].objectId"],
  ]);
});

test("a CloudEvents batch names them the same way", async () => {
  const event = (subject: string, data: string) =>
    `{"specversion":"1.0","id":"${subject}-${data.length}","source":"/t","type":"t","subject":"${subject}","data":${data}}`;
  const events = [
    event("w1", '{"n":1}'),
    event("not an id", '{"n":1}'),
    event("w1", '{"a":{"__proto__":{"x":1}}}'),
    event("w1", `{"big":"${big}"}`),
    event("..", '{"n":1}'),
  ];
  const results = await post("/v1/cloudevents", "application/cloudevents-batch+json", `[${events.join(",")}]`);
  expect(paths(results)).toEqual([null, ["$[1].subject"], ["$[2].data.a.__proto__"], ["$[3].data"], ["$[4].subject"]]);
});
