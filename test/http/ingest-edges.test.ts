// The ingestion paths' contract at their edges: in a batch (POST /v1/facts, CloudEvents batch
// mode) an item over the limits fails alone; a CloudEvents extension may be named `constructor`;
// a re-sent event whose decision retention deleted says so; a body that is not UTF-8 is a 400;
// `Prefer` is read as RFC 7240 writes it.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Retention } from "../../src/governor/retention.ts";
import { nested, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
  await h.services.governor.putObject("w2", { policy: "queue-worker" });
});
afterEach(() => h.close());

const memoryOf = async (id: string) => (await h.call("GET", `/v1/objects/${id}`)).body;
const ev = (o: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: "e1",
  source: "/s",
  type: "t",
  subject: "w1",
  data: { a: 1 },
  ...o,
});

describe("POST /v1/facts: a patch over the limits must fail its item alone", () => {
  // README: "What depends on the object (an unknown id, a patch over the limits) fails that item
  // alone." Limits: "... nesting depth 16, and the keys `__proto__`, `constructor`, `prototype` anywhere."
  test.each([["a forbidden key in one item's facts", { k: { constructor: 1 } }]])("%s", async (_, bad) => {
    const r = await h.call("POST", "/v1/facts", {
      json: {
        items: [
          { objectId: "w1", facts: { ok: 1 } },
          { objectId: "w2", facts: bad },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ objectId: "w1", decisionId: expect.any(String) });
    expect(r.body.results[1]).toMatchObject({ objectId: "w2", error: { status: 422 } });
    expect((await memoryOf("w1")).memory).toEqual({ ok: 1 });
  });
});

test("an own __proto__ key in one item's facts fails that item (it is not dropped on the way)", async () => {
  const r = await h.call("POST", "/v1/facts", {
    raw: '{"items":[{"objectId":"w1","facts":{"ok":1}},{"objectId":"w2","facts":{"__proto__":{"x":1}}}]}',
    headers: { "content-type": "application/json" },
  });
  expect(r.status).toBe(200);
  expect(r.body.results[1]).toMatchObject({ objectId: "w2", error: { status: 422 } });
  expect((await memoryOf("w1")).memory).toEqual({ ok: 1 });
  expect((await memoryOf("w2")).memoryVersion).toBe(0);
});

test("a body nested deeper than 64 levels is refused whole: the guard runs before any item is read", async () => {
  const r = await h.call("POST", "/v1/facts", {
    json: {
      items: [
        { objectId: "w1", facts: { ok: 1 } },
        { objectId: "w2", facts: nested(70) },
      ],
    },
  });
  expect(r.status).toBe(422);
  expect((await memoryOf("w1")).memory).toEqual({});
});

describe("POST /v1/cloudevents batch mode: each event fails alone", () => {
  // README: "batch: ... an array of up to 1,000 events, answered `{results: [...]}` one per
  // event, each failing alone."
  test.each([
    ["a forbidden key in one event's data", ev({ id: "b2", subject: "w2", data: { k: { constructor: 1 } } })],
    [
      "an own __proto__ key in one event's data",
      ev({ id: "b2", subject: "w2", data: JSON.parse('{"__proto__":{"x":1}}') }),
    ],
    [
      "one event with a (legal) extension attribute named `constructor`",
      ev({ id: "b2", subject: "w2", constructor: "x" }),
    ],
  ])("%s", async (_, bad) => {
    const r = await h.call("POST", "/v1/cloudevents", {
      raw: JSON.stringify([ev({ id: "b1" }), bad]),
      headers: { "content-type": "application/cloudevents-batch+json" },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ objectId: "w1", decisionId: expect.any(String) });
    expect((await memoryOf("w1")).memory).toEqual({ a: 1 });
    if (bad.subject === "w2" && bad.data !== undefined && JSON.stringify(bad.data) !== '{"a":1}') {
      expect(r.body.results[1]).toMatchObject({ objectId: "w2", error: { status: 422 } });
      expect((await memoryOf("w2")).memoryVersion).toBe(0);
    }
  });

  test("structured mode: an extension attribute named `constructor` is allowed and ignored", async () => {
    // contracts/cloudevents.ts: "Extension attributes (any other member) are allowed and ignored";
    // CloudEvents 1.0 extension names are [a-z0-9]+, so `constructor`/`prototype` are legal.
    const r = await h.call("POST", "/v1/cloudevents", {
      raw: JSON.stringify(ev({ constructor: "abc" })),
      headers: { "content-type": "application/cloudevents+json" },
    });
    expect(r.status).toBe(200);
  });
});

test("CloudEvents: a re-sent event whose decision retention deleted is a 409 that says so", async () => {
  // README: "A key whose decision retention has deleted (...) is a 409 saying so."
  const send = () =>
    h.call("POST", "/v1/cloudevents", {
      raw: JSON.stringify(ev({ id: "r1" })),
      headers: { "content-type": "application/cloudevents+json" },
    });
  expect((await send()).status).toBe(200);
  await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { b: 2 } } });
  const s = h.services;
  await new Retention(s.store, s.clock, {
    journalMs: null,
    decisionsMs: null,
    decisionsPerObject: 1,
    idempotencyMs: null,
  }).runOnce();
  const again = await send(); // identical event: same source, id and data
  expect(again.status).toBe(409);
  expect(again.body.detail).not.toMatch(/other data/);
  expect(again.body.detail).toMatch(/no longer kept|retention|deleted/);
});

describe("bytes that are not UTF-8 are bad input", () => {
  const post = (bytes: Buffer, key: string) =>
    h.app.request("/v1/objects/w1/facts", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: bytes,
    });
  const body = (b: number) => Buffer.concat([Buffer.from('{"facts":{"s":"'), Buffer.from([b]), Buffer.from('"}}')]);

  test("a body with an invalid UTF-8 byte is refused, not stored as U+FFFD", async () => {
    const r = await post(body(0xff), "u1");
    expect(r.status).toBe(400);
    expect((await memoryOf("w1")).memoryVersion).toBe(0);
  });

  test("two different bodies under one Idempotency-Key are not a replay", async () => {
    await post(body(0xff), "u2");
    const r = await post(body(0xfe), "u2"); // different bytes, decoded to the same U+FFFD
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    expect(r.status).not.toBe(200);
  });
});

test("Prefer: return=minimal with RFC 7240 whitespace or a quoted value is honoured", async () => {
  // RFC 7240: preference = token [ BWS "=" BWS word ], word = token / quoted-string
  for (const prefer of ['return="minimal"', "return = minimal"]) {
    const r = await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { p: 1 } }, headers: { prefer } });
    expect({ prefer, applied: r.headers.get("preference-applied") }).toEqual({ prefer, applied: "return=minimal" });
  }
});
