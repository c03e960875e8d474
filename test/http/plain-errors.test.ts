// Validation errors in one voice: plain words, the JSON path, what was found and what to send
// instead; never zod's own wording, never a number silently changed on the way in.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(() => h.close());

const raw = (path: string, body: string) =>
  h.call("POST", path, { raw: body, headers: { "content-type": "application/json" } });

describe("numbers memory cannot keep as sent are refused, and nothing changes", () => {
  test.each([
    ['{"facts":{"depth":1e400}}', "$.facts.depth", "the number is too large to store (it would become null)"],
    [
      '{"facts":{"n":18446744073709551617}}',
      "$.facts.n",
      "integers beyond ±9007199254740991 are not kept, for past it digits may be lost (this one reads as 18446744073709552000): send it as a string",
    ],
    // Exact as a double, but past 2^53 nothing tells such a number from one that lost digits.
    [
      '{"facts":{"n":6.02e23}}',
      "$.facts.n",
      "are not kept, for past it digits may be lost (this one reads as 6.02e+23)",
    ],
    ['{"facts":{"a":[1,-1e309]}}', "$.facts.a[1]", "the number is too large to store"],
  ])("%s", async (body, path, message) => {
    const reply = await raw("/v1/objects/w1/facts", body);
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toHaveLength(1);
    expect(reply.body.errors[0].path).toBe(path);
    expect(reply.body.errors[0].message).toContain(message);
    expect((await h.call("GET", "/v1/objects/w1")).body.memoryVersion).toBe(0);
  });

  test("in a batch, only the item that carries one fails; the others are applied", async () => {
    const reply = await raw(
      "/v1/facts",
      '{"items":[{"objectId":"w1","facts":{"b":1}},{"objectId":"w1","facts":{"a":1e400}}]}',
    );
    expect(reply.status).toBe(200);
    expect(reply.body.results[0].outcome).toBeDefined();
    expect(reply.body.results[1].error.errors[0].message).toContain("the number is too large to store");
    expect((await h.call("GET", "/v1/objects/w1")).body.memory).toEqual({ b: 1 });
  });

  test("a large integer that is still exact is kept", async () => {
    const reply = await raw("/v1/objects/w1/facts", '{"facts":{"n":9007199254740991}}');
    expect(reply.status).toBe(200);
    expect(reply.body.object.memory.n).toBe(9007199254740991);
  });

  test("1e400 where an object is expected is the wrong type, in the same words on the single and the batch route", async () => {
    const single = await raw("/v1/objects/w1/facts", '{"facts":1e400}');
    const batch = await raw("/v1/facts", '{"items":[{"objectId":"w1","facts":1e400}]}');
    // The same words, at the same place in each body.
    const inItem = (e: { path: string; message: string }) => ({ ...e, path: e.path.replace("$", "$.items[0]") });
    expect(single.body.errors.map(inItem)).toEqual(batch.body.results[0].error.errors);
  });

  test.each([
    ["/v1/objects/w1/facts", '{"facts":1e400}', "$.facts"],
    ["/v1/objects/w1/evaluate", '{"facts":1e400}', "$.facts"],
    ["/v1/objects/w1/evaluate", '{"at":1e400}', "$.at"],
    ["/v1/facts", '{"items":[{"objectId":1e400,"facts":{}}]}', "$.items[0].objectId"],
  ])("POST %s %s: no advice to send a smaller number where none is taken", async (path, body, at) => {
    const reply = await raw(path, body);
    expect(reply.status).toBe(422);
    const problem = reply.body.errors.find((e: { path: string }) => e.path === at);
    expect(problem.message).toMatch(/^expected .*, got a number too large to represent$/);
  });

  test("the same for an object's initial memory", async () => {
    const reply = await h.call("PUT", "/v1/objects/w2", {
      raw: '{"policy":"queue-worker","memory":{"n":1e400}}',
      headers: { "content-type": "application/json" },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors[0].path).toBe("$.memory.n");
  });

  // Where any JSON value is taken (zod's JSON union), the problem is the number's size, not the
  // union's first branch ("expected a string"), and the body's other problems are still named.
  const TOO_LARGE = "the number is too large to store (it would become null): send a smaller one, or a string";
  test.each([
    ["/v1/objects/w1/evaluate", '{"facts":{"a":1e400}}', [{ path: "$.facts.a", message: TOO_LARGE }]],
    [
      "/v1/objects/w1/evaluate",
      '{"facts":{"a":{"b":[1,-1e400]}},"at":5}',
      [
        { path: "$.facts.a.b[1]", message: TOO_LARGE },
        { path: "$.at", message: "expected a string, got the number 5" },
      ],
    ],
    [
      "/v1/objects/w1/facts",
      '{"facts":{"a":1e400},"extra":1}',
      [
        { path: "$.facts.a", message: TOO_LARGE },
        { path: "$.extra", message: "unknown property" },
      ],
    ],
    [
      "/v1/cloudevents",
      '{"specversion":"1.0","id":"e1","source":"s","type":"t","subject":"w1","data":{"facts":{"a":1e400}}}',
      [{ path: "$.data.facts.a", message: TOO_LARGE }],
    ],
  ])("POST %s %s: the number's size is the problem", async (path, body, errors) => {
    const reply = await h.call("POST", path, {
      raw: body,
      headers: { "content-type": path.endsWith("cloudevents") ? "application/cloudevents+json" : "application/json" },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual(errors);
    expect((await h.call("GET", "/v1/objects/w1")).body.memoryVersion).toBe(0);
  });

  test("in the same words whether the body has another problem or not, and as a CloudEvent", async () => {
    const at = (reply: { body: { errors: { path: string; message: string }[] } }, path: string) =>
      reply.body.errors.find((e) => e.path === path)?.message;
    const alone = await raw("/v1/objects/w1/facts", '{"facts":{"a":1e400}}');
    const beside = await raw("/v1/objects/w1/facts", '{"facts":{"a":1e400},"extra":1}');
    const event = await h.call("POST", "/v1/cloudevents", {
      raw: '{"specversion":"1.0","id":"e2","source":"s","type":"t","subject":"w1","data":{"a":1e400}}',
      headers: { "content-type": "application/cloudevents+json" },
    });
    const put = (body: string) =>
      h.call("PUT", "/v1/objects/w2", { raw: body, headers: { "content-type": "application/json" } });
    const memoryAlone = await put('{"policy":"queue-worker","memory":{"n":1e400}}');
    const memoryBeside = await put('{"policy":"queue-worker","memory":{"n":1e400},"x":1}');
    expect(at(alone, "$.facts.a")).toBe(TOO_LARGE);
    expect(at(beside, "$.facts.a")).toBe(TOO_LARGE);
    expect(at(event, "$.data.a")).toBe(TOO_LARGE);
    expect(at(memoryAlone, "$.memory.n")).toBe(TOO_LARGE);
    expect(at(memoryBeside, "$.memory.n")).toBe(TOO_LARGE);
  });
});

describe("one voice", () => {
  test("a page size out of range is one error, saying the range", async () => {
    const reply = await h.call("GET", "/v1/objects?limit=99999999999999999999");
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ path: "$.query.limit", message: "must be a whole number from 1 to 500" }]);
    expect((await h.call("GET", "/v1/objects?limit=abc")).body.errors).toEqual([
      { path: "$.query.limit", message: "must be a whole number from 1 to 500" },
    ]);
  });

  test("facts that are not an object read the same on the single and the batch endpoint", async () => {
    const single = await raw("/v1/objects/w1/facts", '{"facts":[1]}');
    const batch = await raw("/v1/facts", '{"items":[{"objectId":"w1","facts":[1]}]}');
    const message = "expected an object, got an array";
    expect(single.body.errors).toEqual([{ path: "$.facts", message }]);
    expect(batch.body.results[0].error.errors).toEqual([{ path: "$.items[0].facts", message }]);
  });

  test("facts left out read the same on the single and the batch endpoint", async () => {
    const single = await raw("/v1/objects/w1/facts", "{}");
    const batch = await raw("/v1/facts", '{"items":[{"objectId":"w1"}]}');
    expect(single.body.errors).toEqual([{ path: "$.facts", message: "required: expected an object" }]);
    expect(batch.status).toBe(422);
    expect(batch.body.errors).toEqual([{ path: "$.items[0].facts", message: "required: expected an object" }]);
  });

  test("a batch item's bad id is named by its own field", async () => {
    const reply = await raw("/v1/facts", '{"items":[{"objectId":"no spaces","facts":{}}]}');
    expect(reply.body.results[0].error.errors[0].path).toBe("$.items[0].objectId");
  });

  test("a body that is not JSON gives line and column, not V8's quote of it", async () => {
    const reply = await raw("/v1/policies/validate", '{\n  "rules": [ , ]\n}');
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toBe("the request body is not valid JSON (line 2, column 14): Unexpected token ','");
  });

  test.each([
    ["/v1/objects/w1/facts", "[1]", "$", "expected an object, got an array"],
    ["/v1/objects/w1/facts", "{}", "$.facts", "required: expected an object"],
    ["/v1/facts", '{"items":{}}', "$.items", "expected an array, got an object"],
    ["/v1/facts", '{"items":[]}', "$.items", "must hold at least 1 item"],
    [
      "/v1/facts",
      '{"items":[{"objectId":7,"facts":{}}]}',
      "$.items[0].objectId",
      "expected a string, got the number 7",
    ],
    ["/v1/objects/w1/evaluate", '{"at":"yesterday"}', "$.at", "must be an ISO 8601 date and time with a zone"],
  ])("POST %s %s", async (path, body, at, message) => {
    const reply = await raw(path, body);
    expect(reply.status).toBe(422);
    const problem = reply.body.errors.find((e: { path: string }) => e.path === at);
    expect(problem?.message).toContain(message);
    // zod's own wording never leaks.
    expect(reply.text).not.toMatch(/Invalid input|expected record|received|Too (big|small)/);
  });
});

describe("policies", () => {
  test("a refused file shows on GET /v1/policies/{name}: beside the version still serving, or as the 404's errors", async () => {
    const file = h.services.policies.get("queue-worker")!.file;
    h.services.policies.loadText('{"name": "queue-worker", "version": "2", "rules": [', file);
    const serving = await h.call("GET", "/v1/policies/queue-worker");
    expect(serving.status).toBe(200);
    expect(serving.body.version).toBe("1");
    expect(serving.body.refused.file).toBe(file);
    expect(serving.body.refused.errors[0].message).toMatch(/^not valid JSON \(line 1, column \d+\)/);

    h.services.policies.loadText("{}", "/somewhere/brand-new.json");
    const missing = await h.call("GET", "/v1/policies/brand-new");
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain("/somewhere/brand-new.json was refused");
    expect(missing.body.errors.length).toBeGreaterThan(0);

    expect((await h.call("GET", "/v1/policies/on-demand")).body.refused).toBeUndefined();
  });
});

describe("dry runs", () => {
  test("a dry-run decision has no id to look up", async () => {
    const reply = await h.call("POST", "/v1/objects/w1/evaluate", { json: { facts: { queue: { depth: 5 } } } });
    expect(reply.status).toBe(200);
    expect(reply.body.decision.dryRun).toBe(true);
    expect(reply.body.decision.id).toBeNull();
    expect(reply.body.decision.actions.length).toBeGreaterThan(0);
    for (const a of reply.body.decision.actions) expect(a.id).toBeNull();
  });
});
