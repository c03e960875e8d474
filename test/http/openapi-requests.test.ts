// The OpenAPI document against what the server accepts and refuses: each CloudEvents mode's media
// type with its own schema (binary mode included), a body the server does not need is not
// required, every route (those that need no token too) documents the 403 it answers, and the
// headers replies carry. Each case sends the request as well as reading the document.

import { afterEach, beforeEach, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  expect((await h.call("PUT", "/v1/objects/w1", { json: { policy: "queue-worker" } })).status).toBe(201);
});
afterEach(() => h.close());

type Schema = { type?: string; $ref?: string; anyOf?: Schema[] };
type Operation = {
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { headers?: Record<string, unknown> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

const document = async () => (await h.call("GET", "/openapi.json")).body as Doc;

/** A schema's own type, through a `$ref` into the document's components. */
function typeOf(doc: Doc, schema: Schema): string | undefined {
  if (schema.$ref) return typeOf(doc, doc.components.schemas[schema.$ref.split("/").pop()!]!);
  return schema.anyOf ? "anyOf" : schema.type;
}

const event = (id: string) => ({ specversion: "1.0", id, source: "s", type: "t", subject: "w1", data: { a: 1 } });

test("POST /v1/cloudevents: each mode's media type, with its own schema", async () => {
  const doc = await document();
  const content = doc.paths["/v1/cloudevents"]!.post!.requestBody!.content;
  expect(Object.keys(content).sort()).toEqual([
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/json",
  ]);
  expect(typeOf(doc, content["application/cloudevents+json"]!.schema)).toBe("object");
  expect(typeOf(doc, content["application/cloudevents-batch+json"]!.schema)).toBe("array");
  expect(typeOf(doc, content["application/json"]!.schema)).toBe("object");

  const send = (body: unknown, headers: Record<string, string>) =>
    h.call("POST", "/v1/cloudevents", { raw: JSON.stringify(body), headers });
  const binary = { "ce-specversion": "1.0", "ce-id": "b1", "ce-source": "s", "ce-type": "t", "ce-subject": "w1" };
  expect((await send({ a: 1 }, { "content-type": "application/json", ...binary })).status).toBe(200);
  expect((await send(event("e1"), { "content-type": "application/cloudevents+json" })).status).toBe(200);
  expect((await send([event("e2")], { "content-type": "application/cloudevents-batch+json" })).status).toBe(200);
  // Each mode's shape under the other's media type is refused, as the schemas say.
  expect((await send([event("e3")], { "content-type": "application/cloudevents+json" })).status).toBe(422);
  expect((await send(event("e4"), { "content-type": "application/cloudevents-batch+json" })).status).toBe(422);
});

test("a body is required where the server needs one, and not for POST /v1/objects/{id}/evaluate", async () => {
  const doc = await document();
  expect(doc.paths["/v1/objects/{id}/evaluate"]!.post!.requestBody!.required).toBe(false);
  expect((await h.call("POST", "/v1/objects/w1/evaluate")).status).toBe(200);
  expect(doc.paths["/v1/objects/{id}/facts"]!.post!.requestBody!.required).toBe(true);
  expect((await h.call("POST", "/v1/objects/w1/facts")).status).toBe(400);
});

test.each(["/healthz", "/readyz", "/openapi.json", "/ui", "/ui/objects/w1", "/ui/assets/api.js", "/v1/objects"])(
  "GET %s: a non-loopback Origin on a server without tokens is a 403 the document names",
  async (path) => {
    const doc = await document();
    const res = await h.call("GET", path, { headers: { origin: "http://elsewhere.example" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const template = Object.keys(doc.paths).find(
      (p) => new RegExp(`^${p.replace(/\{\w+\}/g, "[^/]+")}$`).test(path) && doc.paths[p]!.get,
    )!;
    expect(Object.keys(doc.paths[template]!.get!.responses)).toContain("403");
  },
);

test("replies name the headers they carry: WWW-Authenticate on a 401, Retry-After on a 429 and a 503, a facts reply's", async () => {
  const doc = await document();
  const facts = doc.paths["/v1/objects/{id}/facts"]!.post!.responses;
  expect(Object.keys(facts["401"]!.headers ?? {})).toEqual(["WWW-Authenticate"]);
  expect(Object.keys(facts["403"]!.headers ?? {})).toEqual(["WWW-Authenticate"]);
  expect(doc.paths["/healthz"]!.get!.responses["403"]!.headers).toBeUndefined();
  expect(Object.keys(facts["429"]!.headers ?? {})).toEqual(["Retry-After"]);
  for (const path of ["/v1/objects/{id}/facts", "/v1/cloudevents"])
    expect(Object.keys(doc.paths[path]!.post!.responses["200"]!.headers ?? {})).toEqual([
      "Idempotent-Replayed",
      "Preference-Applied",
    ]);
  const ready = doc.paths["/readyz"]!.get!.responses;
  expect(Object.keys(ready["503"]!.headers ?? {})).toEqual(["Retry-After"]);
});

test("every route but /healthz names the 503 with Retry-After that the drain answers it with", async () => {
  const doc = await document();
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      const drained = Object.keys(op.responses["503"]?.headers ?? {});
      expect(drained, `${method} ${path}`).toEqual(path === "/healthz" ? [] : ["Retry-After"]);
    }
});

test("replies name the Location of a created object and the ETag of a dashboard file", async () => {
  const doc = await document();
  expect(Object.keys(doc.paths["/v1/objects/{id}"]!.put!.responses["201"]!.headers ?? {})).toEqual(["Location"]);
  const put = await h.call("PUT", "/v1/objects/w2", { json: { policy: "queue-worker" } });
  expect(put.headers.get("location")).toBe("/v1/objects/w2");
  const asset = doc.paths["/ui/assets/{name}"]!.get!.responses;
  for (const status of ["200", "304"]) expect(Object.keys(asset[status]!.headers ?? {})).toEqual(["ETag"]);
  const etag = (await h.app.request("/ui/assets/api.js", { headers: { host: "127.0.0.1" } })).headers.get("etag");
  expect(etag).toBeTruthy();
  const again = await h.app.request("/ui/assets/api.js", { headers: { host: "127.0.0.1", "if-none-match": etag! } });
  expect([again.status, again.headers.get("etag")]).toEqual([304, etag]);
});

test("a JSON body may come as application/merge-patch+json, as the document says", async () => {
  const doc = await document();
  const media = Object.keys(doc.paths["/v1/objects/{id}/facts"]!.post!.requestBody!.content);
  expect(media).toEqual(["application/json", "application/merge-patch+json"]);
  const res = await h.call("POST", "/v1/objects/w1/facts", {
    raw: JSON.stringify({ facts: { a: 1 } }),
    headers: { "content-type": "application/merge-patch+json" },
  });
  expect(res.status).toBe(200);
});

test("a 422 is listed only where the server gives one; an object id in a path is never . or ..", async () => {
  const doc = await document();
  expect(Object.keys(doc.paths["/v1/policies/{name}"]!.get!.responses)).not.toContain("422");
  expect((await h.call("GET", "/v1/policies/%ff")).status).toBe(404);
  expect(Object.keys(doc.paths["/ui/assets/{name}"]!.get!.responses)).not.toContain("422");
  expect((await h.call("GET", "/ui/assets/nope.js")).status).toBe(404);
  expect(Object.keys(doc.paths["/v1/objects/{id}"]!.get!.responses)).toContain("422");
  const params = (doc.paths["/v1/objects/{id}"]!.get as unknown as { parameters: { schema: { pattern: string } }[] })
    .parameters;
  const pattern = new RegExp(params[0]!.schema.pattern);
  expect([".", "..", "w1", ".x", "a..b"].map((id) => pattern.test(id))).toEqual([false, false, true, true, true]);
  expect(Object.keys(doc.paths["/v1/objects/{id}"]!.delete!.responses)).toContain("413");
});
