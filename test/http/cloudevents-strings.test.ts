// README "CloudEvents": a bad event is a 422 naming the attribute. CloudEvents' String type (spec.md,
// "Type System") holds no control characters (U+0000 to U+001F, U+007F to U+009F), no
// noncharacters and no surrogate out of a pair: an `id` of "a\u0000b", a `source` with a line
// break (`%0A` in a ce-source header) or a `dataschema` the URL parser took after dropping its
// tab were applied as any event. They are 422s at the attribute now, in every mode, and apply
// nothing; other Unicode (é, €, an emoji) is taken as before, percent-encoded in a ce-* header (sent
// as raw bytes, a 422: Node would read them as Latin-1). Real HTTP on a port of its own.

import { afterEach, beforeEach, expect, test } from "vitest";
import { rawBytes } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeEach(async () => {
  served = await servedDoors([], 1 << 20);
});
afterEach(() => served.close());

const event = { specversion: "1.0", id: "evt-1", source: "/queues/jobs", type: "t", subject: "w1", data: { n: 1 } };

async function post(contentType: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${served.port}/v1/cloudevents`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body,
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

const memoryVersion = async () => (await served.services.governor.getObject("w1"))!.memoryVersion;

test.each([
  ["an id with U+0000", { id: "a\u0000b" }, "$.id"],
  ["a source with a line break", { source: "/queues\njobs" }, "$.source"],
  ["a type of U+0085 (a C1 control)", { type: "\u0085" }, "$.type"],
  ["a type with an unpaired surrogate", { type: "t\ud800" }, "$.type"],
  ["an id with a noncharacter", { id: "evt-\ufffe" }, "$.id"],
  ["a dataschema with a tab", { dataschema: "https://example.com/\tschema.json" }, "$.dataschema"],
  ["a datacontenttype with U+0007", { datacontenttype: "application/json;\u0007" }, "$.datacontenttype"],
])("structured: %s is a 422 at the attribute, nothing applied", async (_what, change, path) => {
  const before = await memoryVersion();
  const reply = await post("application/cloudevents+json", JSON.stringify({ ...event, ...change }));
  expect(reply.status).toBe(422);
  expect(reply.type).toBe("application/problem+json");
  expect(reply.body.errors).toEqual([{ path, message: expect.stringContaining("control characters") }]);
  expect(await memoryVersion()).toBe(before);
});

test("binary: a percent-encoded control character is a 422 at its header, nothing applied", async () => {
  const before = await memoryVersion();
  const headers = { "ce-specversion": "1.0", "ce-id": "a%00b", "ce-source": "/queues%0Ajobs", "ce-type": "t" };
  const reply = await post("application/json", '{"n":1}', { ...headers, "ce-subject": "w1" });
  expect(reply.status).toBe(422);
  expect(reply.body.errors).toEqual([
    { path: "$.headers.ce-id", message: expect.stringContaining("control characters") },
    { path: "$.headers.ce-source", message: expect.stringContaining("control characters") },
  ]);
  expect(await memoryVersion()).toBe(before);
});

test("batch: such an event fails alone, at its path", async () => {
  const before = await memoryVersion();
  const reply = await post(
    "application/cloudevents-batch+json",
    JSON.stringify([
      { ...event, id: "evt-\u001b" },
      { ...event, id: "evt-2", data: { n: 2 } },
    ]),
  );
  expect(reply.status).toBe(200);
  expect(reply.body.results[0].error.errors).toEqual([
    { path: "$[0].id", message: expect.stringContaining("control characters") },
  ]);
  expect(reply.body.results[1]).toMatchObject({ objectId: "w1", outcome: expect.any(String) });
  expect(await memoryVersion()).toBe(before + 1);
});

test("any other Unicode is taken, as before, in both modes", async () => {
  const structured = await post("application/cloudevents+json", JSON.stringify({ ...event, id: "café-€-😀" }));
  expect(structured.status).toBe(200);
  const binary = await post("application/json", '{"n":3}', {
    "ce-specversion": "1.0",
    "ce-id": encodeURIComponent("café-€-😀-2"),
    "ce-source": "/queues/jobs",
    "ce-type": "t",
    "ce-subject": "w1",
  });
  expect(binary.status).toBe(200);
  expect(binary.body.object.memory).toMatchObject({ n: 3 });
});

test("binary: a ce-* header with bytes outside ASCII (not percent-encoded) is a 422 at it, nothing applied", async () => {
  const before = await memoryVersion();
  // "café" written to the socket as UTF-8, as it is: Node reads the header's bytes as Latin-1 ("cafÃ©").
  const body = '{"n":4}';
  const reply = await rawBytes(
    served.port,
    `POST /v1/cloudevents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\ncontent-type: application/json\r\n` +
      "ce-specversion: 1.0\r\nce-id: café\r\nce-source: /queues/jobs\r\nce-type: t\r\nce-subject: w1\r\n" +
      `content-length: ${body.length}\r\n\r\n${body}`,
  );
  expect(reply).toMatch(/^HTTP\/1\.1 422 /);
  expect(reply).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
  expect(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)).errors).toEqual([
    { path: "$.headers.ce-id", message: expect.stringContaining("percent-encode") },
  ]);
  expect(await memoryVersion()).toBe(before);
});
