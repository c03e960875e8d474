// README (Conditional PUT, DELETE and facts): a batch (POST /v1/facts, a CloudEvents batch) names
// many objects and no one of them, so it refuses If-Match and If-None-Match (a 422 naming the
// header, nothing applied) rather than ignore them, as the single-object doors read them. They
// were ignored: `If-None-Match: *` (create-or-fail on one object's door, a 412 for an existing
// one) applied every item of a batch. Real HTTP on a port of its own, the fast path first (it
// hands batches to hono).

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeEach(async () => {
  served = await servedDoors([], 1 << 20);
});
afterEach(() => served.close());

const url = (path: string) => `http://127.0.0.1:${served.port}${path}`;

async function post(path: string, contentType: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url(path), {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

const memoryVersion = async () => ((await (await fetch(url("/v1/objects/w1"))).json()) as any).memoryVersion;

const event = (id: string) => ({ specversion: "1.0", id, source: "/t", type: "t", subject: "w1", data: { a: 1 } });

const batches = [
  ["POST /v1/facts", "/v1/facts", "application/json", { items: [{ objectId: "w1", facts: { a: 1 } }] }],
  ["a CloudEvents batch", "/v1/cloudevents", "application/cloudevents-batch+json", [event("e1")]],
] as const;

const conditions: [Record<string, string>, string[]][] = [
  [{ "if-match": "*" }, ["$.headers.If-Match"]],
  [{ "if-match": '"v1"' }, ["$.headers.If-Match"]],
  [{ "if-none-match": "*" }, ["$.headers.If-None-Match"]],
  [{ "if-none-match": '"v1"' }, ["$.headers.If-None-Match"]],
  [{ "if-match": "*", "if-none-match": "*" }, ["$.headers.If-Match", "$.headers.If-None-Match"]],
];

describe.each(batches)("%s", (_name, path, contentType, body) => {
  test.each(conditions)("%j is a 422 naming it, nothing applied", async (headers, paths) => {
    const refused = await post(path, contentType, body, headers);
    expect(refused.status).toBe(422);
    expect(refused.type).toBe("application/problem+json");
    expect(refused.body.type).toBe("https://vigil.dev/problems/validation");
    expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(paths);
    expect(await memoryVersion()).toBe(0);
  });

  test("without them the batch is applied", async () => {
    const done = await post(path, contentType, body, {});
    expect(done.status).toBe(200);
    expect(done.body.results[0].outcome).toBeDefined();
    expect(await memoryVersion()).toBe(1);
  });
});

test("CloudEvents' structured mode still reads them, as the object's own door does", async () => {
  const refused = await post("/v1/cloudevents", "application/cloudevents+json", event("e2"), {
    "if-none-match": "*",
  });
  expect(refused.status).toBe(412);
  const done = await post("/v1/cloudevents", "application/cloudevents+json", event("e2"), { "if-match": "*" });
  expect(done.status).toBe(200);
});
