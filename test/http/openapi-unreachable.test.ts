// The OpenAPI document against what the server answers when a remote database cannot be reached
// (core/errors.ts remoteFailure: a 503 with Retry-After), found by a review: read routes said
// only "shutting down, try another instance", write routes said "nothing was written" (a write
// whose answer was lost may have been), and GET /v1/events resuming with Last-Event-ID answered
// 200 and ended the stream at once. Also the 417 and CONNECT's 405, which no operation listed.

// Each test sends the request (app.request(), no sockets) and reads the document.

import { afterEach, expect, test } from "vitest";
import type { GovernorApi } from "../../src/governor/services.ts";
import { setup, type Harness } from "./harness.ts";

type Reply = { description: string; headers?: Record<string, unknown> };
type Doc = {
  info: { description: string };
  paths: Record<string, Record<string, { responses: Record<string, Reply> }>>;
};

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/**
 * What @libsql/client throws when a remote database answers 503 (as test/helpers/hrana-fake.ts's
 * "unavailable" mode makes it): core/errors.ts remoteFailure reads it as passing.
 */
const unreachable = () =>
  Object.assign(new Error("SERVER_ERROR: Server returned HTTP status 503: overloaded"), {
    code: "SERVER_ERROR",
    name: "LibsqlError",
  });

/** The real governor, with `methods` failing as a remote database that cannot be reached. */
function downFor(real: GovernorApi, methods: (keyof GovernorApi)[]): GovernorApi {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (methods.includes(prop as keyof GovernorApi)) return () => Promise.reject(unreachable());
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

async function harness(methods: (keyof GovernorApi)[] = []): Promise<{ h: Harness; doc: Doc }> {
  const base = await setup();
  open.push(base);
  expect((await base.call("PUT", "/v1/objects/w1", { json: { policy: "queue-worker" } })).status).toBe(201);
  const h = await setup({ governor: downFor(base.services.governor, methods) });
  open.push(h);
  const doc = (await h.call("GET", "/openapi.json")).body as Doc;
  return { h, doc };
}

test("a read route's 503 for a database that cannot be reached is described as such", async () => {
  const { h, doc } = await harness(["getObject", "listObjects", "listDecisions", "getDecision", "objectUsage"]);
  for (const [path, tpl] of [
    ["/v1/objects/w1", "/v1/objects/{id}"],
    ["/v1/objects", "/v1/objects"],
    ["/v1/objects/w1/decisions", "/v1/objects/{id}/decisions"],
    ["/v1/decisions/dec_0mx7114b800006bf0336d", "/v1/decisions/{id}"],
    ["/v1/objects/w1/usage", "/v1/objects/{id}/usage"],
  ] as const) {
    const reply = await h.call("GET", path);
    // What the server answers: a 503 about the database, with Retry-After.
    expect(reply.status, path).toBe(503);
    expect(reply.headers.get("retry-after"), path).toBe("5");
    expect(reply.body.detail, path).toContain("the database could not be reached");
    // The document said only "the server is shutting down (`Retry-After`): try another instance".
    const described = doc.paths[tpl]!.get!.responses["503"]!.description;
    expect(described, `GET ${tpl} 503`).toMatch(/database/);
  }
});

test("a write route's 503 for a database that cannot be reached does not claim that nothing was written", async () => {
  const { h, doc } = await harness(["postFacts"]);
  const reply = await h.call("POST", "/v1/objects/w1/facts", { json: { facts: { queue: { depth: 1 } } } });
  expect(reply.status).toBe(503);
  expect(reply.headers.get("retry-after")).toBe("5");
  // The reply: "... it may or may not have been recorded: send it again (facts with the same
  // Idempotency-Key ...)".
  expect(reply.body.detail).toContain("may or may not have been recorded");
  const described = doc.paths["/v1/objects/{id}/facts"]!.post!.responses["503"]!.description;
  // "Nothing was written" is said of a refusal of the embedded file's only, not of a remote not reached.
  const remote = described.slice(described.indexOf("could not be reached"));
  expect(described.indexOf("could not be reached")).toBeGreaterThan(described.indexOf("nothing was written"));
  expect(remote).toMatch(/may or may not have been recorded/);
  expect(remote).toMatch(/same Idempotency-Key/);
});

test("GET /v1/events with Last-Event-ID while the database cannot be reached: a 503, not a 200 that ends at once", async () => {
  const { h } = await harness(["decisionsSince"]);
  const res = await h.app.request("/v1/events", { headers: { "last-event-id": "dec_0mx7114b800006bf0336d" } });
  const text = res.status === 200 ? await res.text() : "";
  // It was a 200 text/event-stream, ": connected", then the end of the stream with nothing saying why.
  expect({ status: res.status, text }).toMatchObject({ status: 503 });
  expect(res.headers.get("retry-after")).not.toBeNull();
  expect(text).toBe("");
});

test("the 417 the server answers an Expect other than 100-continue is in the document", async () => {
  // curl -si -H 'Expect: foo' localhost:8080/v1/objects -> 417 application/problem+json
  // (src/http/node-server.ts checkExpectation; test/http/edges.test.ts covers the reply).
  const { doc } = await harness();
  const statuses = Object.values(doc.paths).flatMap((ops) =>
    Object.values(ops).flatMap((op) => Object.keys(op.responses)),
  );
  expect(statuses.includes("417") || /\b417\b/.test(doc.info.description)).toBe(true);
});
