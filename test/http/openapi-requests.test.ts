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
