// CloudEvents over HTTP (POST /v1/cloudevents): structured, binary and batch modes as arrivals
// of facts; source + id as the idempotency key (after a restart too); every malformed event a
// problem naming the attribute (or its header), never a 5xx.

import { CloudEvent, HTTP } from "cloudevents";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, test } from "vitest";
import { factsReply, minimalFactsReply } from "../../src/contracts/api-replies.ts";
import { cloudEventBatchReply } from "../../src/contracts/cloudevents.ts";
import { createApp } from "../../src/http/app.ts";
import { eventKey } from "../../src/http/routes/cloudevents.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices } from "../helpers/services.ts";
import { expectProblem, setup, TOKEN_CONFIG, TOKENS, type Harness, type Reply } from "./harness.ts";

const STRUCTURED = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";

let h: Harness;
const reported: unknown[] = [];
beforeEach(async () => {
  reported.length = 0;
  h = await setup({ onInternalError: (e) => reported.push(e) });
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
  await h.services.governor.putObject("w2", { policy: "queue-worker" });
});
afterEach(async () => {
  expect(reported).toEqual([]);
  await h.close();
});

/** A valid structured event for `subject`, with `over` on top. */
const event = (over: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: "evt-1",
  source: "/queues/jobs",
  type: "com.example.queue.depth",
  subject: "w1",
  data: { queue: { depth: 3 } },
  ...over,
});

const structured = (body: unknown, headers: Record<string, string> = {}, token?: string) =>
  h.call("POST", "/v1/cloudevents", {
    raw: JSON.stringify(body),
    headers: { "content-type": STRUCTURED, ...headers },
    ...(token !== undefined ? { token } : {}),
  });

const binaryHeaders = {
  "ce-specversion": "1.0",
  "ce-id": "evt-1",
  "ce-source": "/queues/jobs",
  "ce-type": "com.example.queue.depth",
  "ce-subject": "w1",
};

const binary = (data: unknown, headers: Record<string, string | undefined> = {}) => {
  const all: Record<string, string> = { "content-type": "application/json" };
  for (const [k, v] of Object.entries({ ...binaryHeaders, ...headers })) if (v !== undefined) all[k] = v;
  return h.call("POST", "/v1/cloudevents", {
    raw: typeof data === "string" ? data : JSON.stringify(data),
    headers: all,
  });
};

const batch = (events: unknown) =>
  h.call("POST", "/v1/cloudevents", { raw: JSON.stringify(events), headers: { "content-type": BATCH } });

const memoryVersion = async (id: string) => (await h.services.governor.getObject(id))!.memoryVersion;
const paths = (problem: { errors: { path: string }[] }) => problem.errors.map((e) => e.path);

describe("structured mode", () => {
  test("the event's data is merged into the subject's memory; the reply is the facts reply", async () => {
    const reply = await structured(event());
    expect(reply.status).toBe(200);
    expect(reply.headers.get("idempotent-replayed")).toBeNull();
    const { object, decision } = reply.body;
    expect(object).toMatchObject({ id: "w1", memory: { queue: { depth: 3 } }, memoryVersion: 1, state: "waking" });
    expect(decision).toMatchObject({ objectId: "w1", trigger: { kind: "facts" }, outcome: "wake" });
    expect(object.lastDecisionId).toBe(decision.id);
    // Exactly what POST /v1/objects/{id}/facts answers, field for field.
    const facts = await h.call("POST", "/v1/objects/w2/facts", { json: { facts: { queue: { depth: 3 } } } });
    expect(Object.keys(reply.body)).toEqual(Object.keys(facts.body));
    expect(Object.keys(decision).sort()).toEqual(Object.keys(facts.body.decision).sort());
  });

  test("extension attributes, null optional attributes and JSON datacontenttype are accepted", async () => {
    const reply = await structured(
      event({
        traceparent: "00-abc-def-01",
        myext: { any: "thing" },
        time: "2026-03-01T00:00:00Z",
        dataschema: "https://example.com/schema",
        datacontenttype: "application/json; charset=utf-8",
        data_base64: null,
      }),
      { "content-type": `${STRUCTURED}; charset=utf-8` },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.object.memory).toEqual({ queue: { depth: 3 } });
  });

  // RFC 3339 section 5.6: "T" and "Z" may be lower case; a second may be 60 (a leap second).
  test.each(["2026-03-01t12:00:00z", "2016-12-31T23:59:60Z", "2026-03-01T12:00:00.123456+05:30"])(
    "a time of %s is an RFC 3339 timestamp",
    async (time) => {
      const reply = await structured(event({ id: `e-${time}`, time }));
      expect(reply.body.errors ?? []).toEqual([]);
      expect(reply.status).toBe(200);
    },
  );

  test("Prefer: return=minimal answers with the decision alone", async () => {
    const reply = await structured(event(), { prefer: "return=minimal" });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("preference-applied")).toBe("return=minimal");
    expect(Object.keys(reply.body)).toEqual(["decision"]);
    expect(reply.body.decision.explanation).toBeUndefined();
  });
});

describe("binary mode", () => {
  test("the ce-* headers are the attributes and the body is the data", async () => {
    const reply = await binary({ queue: { depth: 2 } }, { "ce-traceparent": "x" });
    expect(reply.status).toBe(200);
    expect(reply.body.object).toMatchObject({ id: "w1", memory: { queue: { depth: 2 } } });
  });

  test("header values are percent-decoded (HTTP binding 3.1.3.2)", async () => {
    expect((await binary({ n: 1 }, { "ce-subject": "w%32" })).body.object.id).toBe("w2");
    const bad = expectProblem(await binary({ n: 1 }, { "ce-source": "%E0%A4%A" }), 422, "validation");
    expect(bad.errors).toEqual([{ path: "$.headers.ce-source", message: "not valid percent-encoded UTF-8" }]);
  });

  test("a quoted-string value is unquoted, then percent-decoded (HTTP binding 3.1.3.2)", async () => {
    expect((await binary({ n: 1 }, { "ce-subject": '"w1"' })).body.object.id).toBe("w1");
    expect((await binary({ n: 2 }, { "ce-subject": '"w%32"' })).body.object.id).toBe("w2");
    // The same event as its structured form: one event, applied once.
    const first = await structured(event({ id: "q 1", source: "/my source", data: { q: 1 } }));
    expect(first.status).toBe(200);
    const version = await memoryVersion("w1");
    const again = await binary({ q: 1 }, { "ce-id": '"q 1"', "ce-source": '"/my \\source"' });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.decision.id).toBe(first.body.decision.id);
    expect(await memoryVersion("w1")).toBe(version);
  });

  test.each(['"w1', '"w"1"', '"w1\\"', '"'])("%s is not a quoted-string: a 422 naming the header", async (subject) => {
    const version = await memoryVersion("w1");
    const bad = expectProblem(await binary({ n: 1 }, { "ce-subject": subject }), 422, "validation");
    expect(bad.errors).toEqual([
      { path: "$.headers.ce-subject", message: "not a valid quoted-string (RFC 9110, section 5.6.4)" },
    ]);
    expect(await memoryVersion("w1")).toBe(version);
  });

  test("any +json body is data", async () => {
    const reply = await binary({ n: 1 }, { "content-type": "application/merge-patch+json" });
    expect(reply.status).toBe(200);
  });
});

describe("the cloudevents SDK's own messages are read", () => {
  const sdkEvent = () =>
    new CloudEvent({ id: "sdk-1", source: "/sdk", type: "t", subject: "w2", data: { jobs: { inflight: 1 } } });
  test.each([
    ["binary", HTTP.binary],
    ["structured", HTTP.structured],
  ])("%s", async (_mode, serialize) => {
    const message = serialize(sdkEvent());
    const reply = await h.call("POST", "/v1/cloudevents", {
      raw: message.body as string,
      headers: message.headers as Record<string, string>,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.object.memory).toMatchObject({ jobs: { inflight: 1 } });
  });
});

describe("source + id is the idempotency key", () => {
  test("a repeat applies nothing and answers with the same decision, in either mode", async () => {
    const first = await structured(event());
    const again = await structured(event({ type: "another.type", time: "2026-03-02T00:00:00Z" }));
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.decision.id).toBe(first.body.decision.id);
    const binaryRepeat = await binary(event().data);
    expect(binaryRepeat.headers.get("idempotent-replayed")).toBe("true");
    expect(binaryRepeat.body.decision.id).toBe(first.body.decision.id);
    expect(await memoryVersion("w1")).toBe(1);
  });

  test("another source or another id is another event", async () => {
    await structured(event());
    const otherSource = await structured(event({ source: "/queues/other" }));
    const otherId = await structured(event({ id: "evt-2" }));
    expect(otherSource.headers.get("idempotent-replayed")).toBeNull();
    expect(otherId.headers.get("idempotent-replayed")).toBeNull();
    expect(await memoryVersion("w1")).toBe(3);
  });

  test("the same source + id with other data is a 409, and applies nothing", async () => {
    await structured(event());
    const problem = expectProblem(await structured(event({ data: { queue: { depth: 9 } } })), 409, "conflict");
    expect(problem.detail).toBe(
      "an event with this source and id was already received with other data; give new data a new id",
    );
    expect(problem.detail).not.toContain("Idempotency-Key");
    expect((await h.services.governor.getObject("w1"))!.memory).toEqual({ queue: { depth: 3 } });
  });

  test("the key fits the Idempotency-Key pattern and keeps the pair apart", () => {
    const key = eventKey({ source: "a\nb", id: "c" });
    expect(key).toMatch(/^ce:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(eventKey({ source: "a", id: "b\nc" }));
  });
});

describe("after a restart", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-ce-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a repeat still applies nothing", async () => {
    const url = `file:${join(dir, "vigil.db")}`;
    const post = async (s: Awaited<ReturnType<typeof makeServices>>) => {
      const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
      const res = await app.request("/v1/cloudevents", {
        method: "POST",
        headers: { "content-type": STRUCTURED },
        body: JSON.stringify(event()),
      });
      return { status: res.status, replayed: res.headers.get("idempotent-replayed"), body: (await res.json()) as any };
    };
    const s1 = await makeServices({ store: new LibsqlStore({ url }) });
    await s1.governor.putObject("w1", { policy: "queue-worker" });
    const first = await post(s1);
    await s1.close();
    const s2 = await makeServices({ store: new LibsqlStore({ url }), start: s1.clock.now() });
    const again = await post(s2);
    await s2.close();
    expect(first).toMatchObject({ status: 200, replayed: null });
    expect(again).toMatchObject({ status: 200, replayed: "true" });
    expect(again.body.decision.id).toBe(first.body.decision.id);
    expect(again.body.object.memoryVersion).toBe(1);
  });
});

describe("batch mode", () => {
  test("each event is applied or fails on its own, in order", async () => {
    const reply = await batch([
      event(),
      event({ id: "evt-2", subject: undefined }),
      event({ id: "evt-3", subject: "ghost" }),
      7,
      event({ id: "evt-4", subject: "w2", data: { jobs: { inflight: 1 } } }),
    ]);
    expect(reply.status).toBe(200);
    const [ok, noSubject, unknown, notAnEvent, ok2] = reply.body.results;
    expect(ok).toEqual({ objectId: "w1", decisionId: expect.stringMatching(/^dec_/), outcome: "wake" });
    expect(noSubject).toMatchObject({
      objectId: null,
      error: { status: 422, errors: [{ path: "$[1].subject", message: expect.stringContaining("the object id") }] },
    });
    expect(unknown).toMatchObject({ objectId: "ghost", error: { status: 404 } });
    expect(notAnEvent).toMatchObject({ objectId: null, error: { status: 422 } });
    expect(ok2).toEqual({ objectId: "w2", decisionId: expect.stringMatching(/^dec_/), outcome: "hold-active" });
    expect(await memoryVersion("w1")).toBe(1);
    expect(await memoryVersion("w2")).toBe(1);
  });

  test("a repeated event replays its decision; a changed one is a 409 in its item", async () => {
    const first = await batch([event()]);
    const again = await batch([event(), event({ data: { queue: { depth: 0 } } })]);
    expect(again.body.results[0].decisionId).toBe(first.body.results[0].decisionId);
    expect(again.body.results[1]).toMatchObject({ objectId: "w1", error: { status: 409 } });
    expect(await memoryVersion("w1")).toBe(1);
  });

  test("a bad patch's problem names the item's data", async () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
    const reply = await batch([event({ data: deep(20) })]);
    expect(reply.body.results[0].error.errors[0].path).toMatch(/^\$\[0\]\.data/);
  });

  test.each([
    ["an object", { events: [] }],
    ["more than 1000 events", Array.from({ length: 1001 }, () => 1)],
  ])("a body that is %s is a 422 at $", async (_label, body) => {
    expect(paths(expectProblem(await batch(body), 422, "validation"))).toEqual(["$"]);
  });

  test("an empty batch is an empty result", async () => {
    expect((await batch([])).body).toEqual({ results: [] });
  });
});

describe("invalid events are 422s naming the attribute", () => {
  test.each([
    ["no subject", { subject: undefined }, "$.subject", "the object id"],
    ["a null subject", { subject: null }, "$.subject", "the object id"],
    ["another specversion", { specversion: "0.3" }, "$.specversion", '"1.0"'],
    ["no specversion", { specversion: undefined }, "$.specversion", "required"],
    ["an empty id", { id: "" }, "$.id", "empty"],
    ["no source", { source: undefined }, "$.source", "required"],
    ["a type that is a number", { type: 3 }, "$.type", "string"],
    ["a subject that is no object id", { subject: "a b" }, "$.subject", "object ids"],
    ["no data", { data: undefined }, "$.data", "JSON object"],
    ["data that is an array", { data: [1] }, "$.data", "JSON object"],
    ["data that is a string of JSON", { data: '{"a":1}' }, "$.data", "JSON object"],
    ["binary data", { data: undefined, data_base64: "AAEC" }, "$.data_base64", "binary"],
    ["a datacontenttype that is not JSON", { datacontenttype: "text/plain" }, "$.datacontenttype", "JSON"],
    ["a time that is no timestamp", { time: "yesterday" }, "$.time", "RFC 3339"],
    ["a time without its offset", { time: "2026-03-01T12:00:00" }, "$.time", "RFC 3339"],
    ["a time of hour 24", { time: "2026-03-01T24:00:00Z" }, "$.time", "RFC 3339"],
    ["a dataschema that is no URI", { dataschema: "not a uri" }, "$.dataschema", "URI"],
    ["a __proto__ key in data", { data: JSON.parse('{"__proto__":{"x":1}}') }, "$.data.__proto__", "not allowed"],
  ])("structured: %s", async (_label, over, path, message) => {
    const problem = expectProblem(await structured(event(over)), 422, "validation");
    expect(problem.errors).toContainEqual({ path, message: expect.stringContaining(message) });
    expect(await memoryVersion("w1")).toBe(0);
  });

  test.each([
    ["no ce-subject", { "ce-subject": undefined }, "$.headers.ce-subject", "the object id"],
    ["ce-specversion 0.3", { "ce-specversion": "0.3" }, "$.headers.ce-specversion", '"1.0"'],
    [
      "no ce-* headers at all",
      Object.fromEntries(Object.keys(binaryHeaders).map((k) => [k, undefined])),
      "$.headers.ce-specversion",
      "required",
    ],
    ["an empty ce-id", { "ce-id": "" }, "$.headers.ce-id", "empty"],
    ["a bad ce-time", { "ce-time": "noon" }, "$.headers.ce-time", "RFC 3339"],
  ])("binary: %s", async (_label, headers, path, message) => {
    const problem = expectProblem(await binary({ n: 1 }, headers), 422, "validation");
    expect(problem.errors).toContainEqual({ path, message: expect.stringContaining(message) });
    expect(await memoryVersion("w1")).toBe(0);
  });

  test("binary: a body that is not an object is a 422 at $ (the data is the body)", async () => {
    expect(paths(expectProblem(await binary([1, 2]), 422, "validation"))).toEqual(["$"]);
  });

  test("a patch over memory's limits names the data", async () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
    expect(paths(expectProblem(await structured(event({ data: deep(20) })), 422, "validation"))[0]).toMatch(
      /^\$\.data/,
    );
    expect(paths(expectProblem(await binary(deep(20)), 422, "validation"))[0]).toMatch(/^\$\.a/);
  });

  test("an unknown subject is a 404", async () => {
    expectProblem(await structured(event({ subject: "ghost" })), 404, "not-found");
  });

  test("a body that is not JSON is a 400", async () => {
    const reply = await h.call("POST", "/v1/cloudevents", { raw: "{", headers: { "content-type": STRUCTURED } });
    expectProblem(reply, 400, "malformed-request");
  });
});

describe("unsupported content types are 415s", () => {
  test.each([
    ["text/plain", "text/plain"],
    ["another event format", "application/cloudevents+avro"],
    ["no content type", undefined],
  ])("%s", async (_label, type) => {
    const reply = await h.call("POST", "/v1/cloudevents", {
      raw: JSON.stringify(event()),
      headers: { ...binaryHeaders, ...(type !== undefined ? { "content-type": type } : {}) },
    });
    const problem = expectProblem(reply, 415, "unsupported-media-type");
    expect(problem.detail).toContain(STRUCTURED);
    expect(await memoryVersion("w1")).toBe(0);
  });
});

describe("auth", () => {
  let t: Harness;
  beforeEach(async () => {
    t = await setup({ tokens: TOKEN_CONFIG });
    await t.services.governor.putObject("w1", { policy: "queue-worker" });
  });
  afterEach(() => t.close());

  test.each([
    ["no token", 401, undefined],
    ["a read token", 403, TOKENS.read],
    ["a write:objects token", 403, TOKENS.objects],
    ["a write:facts token", 200, TOKENS.facts],
    ["an admin token", 200, TOKENS.admin],
  ])("%s: %i", async (_label, status, token) => {
    const reply = await t.call("POST", "/v1/cloudevents", {
      raw: JSON.stringify(event()),
      headers: { "content-type": STRUCTURED },
      ...(token !== undefined ? { token } : {}),
    });
    expect(reply.status).toBe(status);
    expect((await t.services.governor.getObject("w1"))!.memoryVersion).toBe(status === 200 ? 1 : 0);
  });
});

describe("the documented reply schemas accept what the route sends", () => {
  const accepts = (
    schema: { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } },
    v: unknown,
  ) => expect(schema.safeParse(v).error?.issues ?? []).toEqual([]);

  test("facts, minimal and batch replies", async () => {
    accepts(factsReply, (await structured(event())).body);
    accepts(minimalFactsReply, (await structured(event({ id: "evt-2" }), { prefer: "return=minimal" })).body);
    const reply = await batch([event({ id: "evt-3" }), event({ subject: undefined }), event({ subject: "ghost" })]);
    expect(reply.body.results[1].objectId).toBeNull();
    accepts(cloudEventBatchReply, reply.body);
  });
});

describe("fuzz: no input is a 5xx", () => {
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.json().map((j) => JSON.parse(j)),
  );
  const attributes = fc.record(
    {
      specversion: fc.oneof(fc.constant("1.0"), value),
      id: value,
      source: value,
      type: value,
      subject: fc.oneof(fc.constantFrom("w1", "w2", "ghost"), value),
      data: fc.oneof(
        fc.dictionary(
          fc.string(),
          fc.json().map((j) => JSON.parse(j)),
        ),
        value,
      ),
      data_base64: value,
      datacontenttype: fc.oneof(fc.constantFrom("application/json", "text/plain"), value),
      time: value,
      dataschema: value,
    },
    { requiredKeys: [] },
  );
  const contentType = fc.oneof(
    fc.constantFrom(STRUCTURED, BATCH, "application/json", "application/cloudevents", "text/plain; charset=x"),
    fc.string(),
  );
  const body = fc.oneof(
    attributes.map((a) => JSON.stringify(a)),
    fc.array(attributes, { maxLength: 4 }).map((a) => JSON.stringify(a)),
    fc.json(),
    fc.string(),
  );
  const ceHeaders = fc.dictionary(
    fc.constantFrom(
      "ce-specversion",
      "ce-id",
      "ce-source",
      "ce-type",
      "ce-subject",
      "ce-time",
      "ce-dataschema",
      "ce-x",
    ),
    fc.oneof(fc.string(), fc.constantFrom("1.0", "w1", "%", "%E0%A4")),
  );

  test("structured, binary and batch bodies", async () => {
    await fc.assert(
      fc.asyncProperty(contentType, ceHeaders, body, async (type, headers, raw) => {
        const reply: Reply = await h.call("POST", "/v1/cloudevents", {
          raw,
          headers: { ...headers, "content-type": type },
        });
        expect(reply.status).toBeLessThan(500);
        if (reply.status !== 200) expect(reply.headers.get("content-type")).toBe("application/problem+json");
      }),
      { numRuns: 200, seed: 20260311 },
    );
  });
});
