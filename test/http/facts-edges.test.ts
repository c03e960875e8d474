// The edges of the facts routes over real HTTP, served as main.ts serves (the fast path, then
// hono) and by hono alone: the two doors must answer alike, and a refusal changes nothing.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { rawRequest, type RawReply } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

type Served = Awaited<ReturnType<typeof servedDoors>>;

const EVENT = { specversion: "1.0", id: "e-1", source: "/q", type: "depth", subject: "w1", data: { n: 1 } };

function problem(r: RawReply, status: number, slug: string): any {
  expect(r.headers["content-type"]).toBe("application/problem+json");
  const body = JSON.parse(r.text);
  expect({ status: r.status, type: body.type }).toEqual({ status, type: `https://vigil.dev/problems/${slug}` });
  return body;
}

describe.each([
  ["fast path and hono", true],
  ["hono alone", false],
])("served by %s", (_, fastPath) => {
  let s: Served;
  beforeEach(async () => {
    s = await servedDoors([], 1 << 20, fastPath);
  });
  afterEach(async () => {
    await s.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    rawRequest(s.port, {
      method: "POST",
      path,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const version = async () => (await s.services.governor.getObject("w1"))!.memoryVersion;

  describe("an Idempotency-Key header where keys travel with each item is refused, nothing applied", () => {
    test("POST /v1/facts", async () => {
      const items = { items: [{ objectId: "w1", facts: { n: 1 } }] };
      for (let i = 0; i < 2; i++) {
        const p = problem(await post("/v1/facts", items, { "idempotency-key": "retry-1" }), 422, "validation");
        expect(p.errors).toEqual([
          { path: "$.headers.Idempotency-Key", message: expect.stringContaining("idempotencyKey") },
        ]);
      }
      expect(await version()).toBe(0);
    });

    test.each([
      ["structured", "application/cloudevents+json", EVENT, {}],
      ["batch", "application/cloudevents-batch+json", [EVENT], {}],
      [
        "binary",
        "application/json",
        EVENT.data,
        { "ce-specversion": "1.0", "ce-id": "e-1", "ce-source": "/q", "ce-type": "depth", "ce-subject": "w1" },
      ],
    ])("POST /v1/cloudevents, %s mode", async (_, type, body, headers) => {
      const r = await post("/v1/cloudevents", body, { ...headers, "content-type": type, "idempotency-key": "k" });
      const p = problem(r, 422, "validation");
      expect(p.errors).toEqual([
        { path: "$.headers.Idempotency-Key", message: expect.stringContaining("source + id") },
      ]);
      expect(await version()).toBe(0);
    });
  });
  describe("`.` and `..` are not object ids: a 422 at the item's path, not a 404", () => {
    test.each([".", ".."])("an item of POST /v1/facts naming %j", async (id) => {
      const r = await post("/v1/facts", {
        items: [
          { objectId: id, facts: { n: 1 } },
          { objectId: "w1", facts: {} },
        ],
      });
      expect(r.status).toBe(200);
      const [bad, good] = JSON.parse(r.text).results;
      expect(bad.objectId).toBe(id);
      expect(bad.error).toMatchObject({ status: 422, type: "https://vigil.dev/problems/validation" });
      expect(bad.error.errors).toEqual([
        { path: "$.items[0].objectId", message: expect.stringContaining("not . or ..") },
      ]);
      expect(good.outcome).toBeDefined();
    });

    test.each([".", ".."])("a CloudEvent whose subject is %j, in each mode", async (id) => {
      const event = { ...EVENT, subject: id };
      const structured = await post("/v1/cloudevents", event, { "content-type": "application/cloudevents+json" });
      expect(problem(structured, 422, "validation").errors).toEqual([
        { path: "$.subject", message: expect.stringContaining("not . or ..") },
      ]);
      const binary = await post("/v1/cloudevents", event.data, {
        "ce-specversion": "1.0",
        "ce-id": "e-1",
        "ce-source": "/q",
        "ce-type": "depth",
        "ce-subject": id,
      });
      expect(problem(binary, 422, "validation").errors).toEqual([
        { path: "$.headers.ce-subject", message: expect.stringContaining("not . or ..") },
      ]);
      const batch = await post("/v1/cloudevents", [event], { "content-type": "application/cloudevents-batch+json" });
      expect(batch.status).toBe(200);
      const [result] = JSON.parse(batch.text).results;
      expect(result.objectId).toBe(id);
      expect(result.error).toMatchObject({ status: 422, type: "https://vigil.dev/problems/validation" });
      expect(result.error.errors).toEqual([{ path: "$[0].subject", message: expect.stringContaining("not . or ..") }]);
      expect(await version()).toBe(0);
    });
  });
  describe("an object id that is a dot segment in the URL is refused as a bad id, not routed elsewhere", () => {
    test.each([
      ["POST", "/v1/objects/%2E%2E/facts"],
      ["POST", "/v1/objects/%2e%2E/facts?x=1"],
      ["POST", "/v1/objects/../facts"],
      ["POST", "/v1/objects/%2E/facts"],
      ["POST", "/v1/objects/.%2e/evaluate"],
      ["GET", "/v1/objects/%2E%2E"],
      ["PUT", "/v1/objects/%2E%2E"],
      ["DELETE", "/v1/objects/."],
      // The absolute form of a request target (RFC 9112 3.2.2), which a server must accept: the
      // id is in its path as in the origin form.
      ["POST", "http://127.0.0.1/v1/objects/%2E%2E/facts"],
      ["GET", "HTTP://localhost:8080/v1/objects/.."],
    ])("%s %s", async (method, path) => {
      const r = await rawRequest(s.port, {
        method,
        path,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(method === "PUT" ? { policy: "queue-worker" } : { facts: { n: 1 } }),
      });
      const p = problem(r, 422, "validation");
      expect(p.detail).toBe("invalid object id");
      expect(p.errors).toEqual([{ path: "$.id", message: expect.stringContaining("not . or ..") }]);
      expect(await version()).toBe(0);
      expect((await s.services.governor.listObjects({ limit: 10 })).items.map((o) => o.id)).toEqual(["w1"]);
    });
  });
  // A target in absolute form with another scheme than http(s) was read by its path alone, as the
  // dot-segment checks read it: `ftp://127.0.0.1/v1/objects/.` was a 422 at $.id, while the same
  // target with another id was a 400 from the adapter. Every such target is a 400 that names it.
  describe("a target in absolute form with a scheme other than http(s) is a 400, not routed", () => {
    test.each([
      ["PUT", "ftp://127.0.0.1/v1/objects/."],
      ["POST", "ftp://127.0.0.1/v1/objects/%2E%2E/facts"],
      ["POST", "gopher://x/v1/objects/w1/./facts"],
      ["PUT", "FTP://127.0.0.1/v1/objects/w2"],
      ["POST", "ws://127.0.0.1/v1/objects/w1/facts"],
    ])("%s %s", async (method, path) => {
      const r = await rawRequest(s.port, {
        method,
        path,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(method === "PUT" ? { policy: "queue-worker" } : { facts: { n: 1 } }),
      });
      expect(problem(r, 400, "malformed-request").detail).toMatch(/scheme is "[^"]+": only http and https are served/);
      expect(await version()).toBe(0);
      expect((await s.services.governor.listObjects({ limit: 10 })).items.map((o) => o.id)).toEqual(["w1"]);
    });
  });
  // A scheme is case-insensitive (RFC 3986 3.1): `HTTP://host/...` is the http target the 400 above
  // says is served, yet hono's adapter took only a lower-case one and refused it as an unreadable URL.
  describe("a target in absolute form whose scheme is written in capitals is served as http(s)", () => {
    test.each([["HTTP://127.0.0.1/v1/objects/w1/facts"], ["Https://localhost/v1/objects/w1/facts"]])(
      "POST %s",
      async (path) => {
        const r = await post(path, { facts: { n: 1 } });
        expect(r.status, r.text).toBe(200);
        expect(await version()).toBe(1);
      },
    );
  });
  // Found beside the above: a dot segment anywhere else in the path was removed by the URL too,
  // and the route of what was left answered (`/v1/objects/w1/%2E%2E/%2E%2E/facts`, as the batch
  // route, applied its body). A path that names a resource through `.` or `..` is not served.
  describe("a dot segment elsewhere in the path is refused, not routed to what is left", () => {
    test.each([
      ["POST", "/v1/objects/w1/%2E%2E/%2E%2E/facts"],
      ["POST", "/v1/objects/w1/./facts"],
      ["GET", "/ui/objects/%2e%2e"],
      ["GET", "/v1/%2E%2E/healthz"],
    ])("%s %s", async (method, path) => {
      const batch = { items: [{ objectId: "w1", facts: { n: 1 } }] };
      const r = await rawRequest(s.port, {
        method,
        path,
        headers: { "content-type": "application/json" },
        body: method === "GET" ? undefined : JSON.stringify(batch),
      });
      expect(problem(r, 400, "malformed-request").detail).toMatch(/dot segment/);
      expect(await version()).toBe(0);
    });
  });
  test("If-Match and If-None-Match on POST /v1/objects/{id}/facts are read as PUT and DELETE read them", async () => {
    const facts = (headers: Record<string, string>, id = "w1") =>
      post(`/v1/objects/${id}/facts`, { facts: { n: 1 } }, headers);
    const refused: Record<string, string>[] = [
      { "if-match": '"abc"' },
      { "if-none-match": "*" },
      { "if-match": "*", "if-none-match": "*" },
    ];
    for (const headers of refused) {
      expect(problem(await facts(headers), 412, "precondition-failed").detail).toMatch(/If-(None-)?Match/);
      // PUT answers the same header alike.
      const put = await rawRequest(s.port, {
        method: "PUT",
        path: "/v1/objects/w1",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ policy: "queue-worker" }),
      });
      expect(put.status).toBe(412);
    }
    expect(await version()).toBe(0);
    // If-None-Match: * sent twice (a proxy's copy beside the client's), which Node joins as `*, *`:
    // still "no object", on both routes. Read as a list of tags, it was ignored, and applied.
    const twice = { "content-type": "application/json", "if-none-match": ["*", "*"] };
    const body = (b: unknown) => ({ headers: twice, body: JSON.stringify(b) });
    problem(
      await rawRequest(s.port, { method: "POST", path: "/v1/objects/w1/facts", ...body({ facts: { n: 1 } }) }),
      412,
      "precondition-failed",
    );
    problem(
      await rawRequest(s.port, { method: "PUT", path: "/v1/objects/w1", ...body({ policy: "on-demand" }) }),
      412,
      "precondition-failed",
    );
    expect(await version()).toBe(0);
    expect((await s.services.governor.getObject("w1"))!.policy).toBe("queue-worker");
    // A missing object is a 404 whatever the headers say, as for DELETE.
    problem(await facts({ "if-match": '"abc"' }, "nope"), 404, "not-found");
    expect((await facts({ "if-match": "*" })).status).toBe(200);
    expect((await facts({ "if-none-match": '"abc"' })).status).toBe(200);
    expect(await version()).toBe(2);
  });
  test("POST /v1/cloudevents reads If-Match and If-None-Match as the facts route does (structured and binary)", async () => {
    const binary = {
      "ce-specversion": "1.0",
      "ce-id": "e-2",
      "ce-source": "/q",
      "ce-type": "depth",
      "ce-subject": "w1",
    };
    const structured = { "content-type": "application/cloudevents+json" };
    problem(await post("/v1/cloudevents", EVENT, { ...structured, "if-match": '"abc"' }), 412, "precondition-failed");
    problem(await post("/v1/cloudevents", EVENT.data, { ...binary, "if-none-match": "*" }), 412, "precondition-failed");
    expect(await version()).toBe(0);
    expect((await post("/v1/cloudevents", EVENT, { ...structured, "if-match": "*" })).status).toBe(200);
    expect(await version()).toBe(1);
  });
});
