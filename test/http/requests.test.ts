// The protocol edges every route shares: content types (415), syntax (400), size (413),
// unknown routes (404), wrong methods (405), and errors nobody expected (500, leaking nothing).

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { GovernorApi } from "../../src/governor/services.ts";
import { expectProblem, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(() => h.close());

const JSON_HEADERS = { "content-type": "application/json" };
const facts = (raw: string, headers: Record<string, string> = JSON_HEADERS) =>
  h.call("POST", "/v1/objects/w1/facts", { raw, headers });

describe("content types", () => {
  test.each([
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/merge-patch+json",
  ])("%s is accepted", async (type) => {
    expect((await facts('{"facts":{"a":1}}', { "content-type": type })).status).toBe(200);
  });

  test.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
  ])("%s is a 415", async (type) => {
    const problem = expectProblem(
      await facts('{"facts":{"a":1}}', { "content-type": type }),
      415,
      "unsupported-media-type",
    );
    expect(problem.detail).toContain("application/json");
  });

  test("a body without a content type is a 415", async () => {
    expectProblem(await facts('{"facts":{"a":1}}', {}), 415, "unsupported-media-type");
  });
});

describe("malformed bodies", () => {
  test.each([
    ["truncated JSON", '{"facts":'],
    ["a trailing comma", '{"facts":{"a":1},}'],
    ["single quotes", "{'facts':{}}"],
    ["not JSON at all", "facts=1"],
  ])("%s is a 400", async (_label, raw) => {
    const problem = expectProblem(await facts(raw), 400, "malformed-request");
    expect(problem.detail).toMatch(/not valid JSON/);
  });

  test.each([
    ["PUT", "/v1/objects/w2"],
    ["POST", "/v1/objects/w1/facts"],
    ["POST", "/v1/facts"],
    ["POST", "/v1/policies/validate"],
  ])("an empty body on %s %s is a 400", async (method, path) => {
    expectProblem(await h.call(method, path, { raw: "", headers: JSON_HEADERS }), 400, "malformed-request");
  });

  test("nesting past 64 levels is a 422, whatever the route", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    for (const [method, path, raw] of [
      ["POST", "/v1/objects/w1/facts", `{"facts":{"a":${deep}}}`],
      ["POST", "/v1/policies/validate", `{"rules":${deep}}`],
      ["POST", "/v1/objects/w1/evaluate", `{"policy":${deep}}`],
    ] as const) {
      const problem = expectProblem(await h.call(method, path, { raw, headers: JSON_HEADERS }), 422, "validation");
      expect(problem.errors[0].message).toMatch(/deeper than 64/);
    }
  });
});

describe("body size", () => {
  test("a body over the default 1 MiB is a 413", async () => {
    const raw = JSON.stringify({ facts: { blob: "x".repeat(1024 * 1024) } });
    expectProblem(await facts(raw), 413, "too-large");
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
  });

  test("the same holds when Content-Length announces it", async () => {
    const raw = "x".repeat(1024 * 1024 + 1);
    const reply = await facts(raw, { ...JSON_HEADERS, "content-length": String(raw.length) });
    expectProblem(reply, 413, "too-large");
  });

  test("bodyLimitBytes sets the limit, on every route with a body", async () => {
    const small = await setup({ bodyLimitBytes: 64 });
    try {
      await small.services.governor.putObject("w1", { policy: "queue-worker" });
      const big = JSON.stringify({ facts: { blob: "x".repeat(100) } });
      for (const path of ["/v1/objects/w1/facts", "/v1/facts", "/v1/objects/w1/evaluate", "/v1/policies/validate"]) {
        const problem = expectProblem(
          await small.call("POST", path, { raw: big, headers: JSON_HEADERS }),
          413,
          "too-large",
        );
        expect(problem.detail).toContain("64 bytes");
      }
      expectProblem(await small.call("PUT", "/v1/objects/w2", { raw: big, headers: JSON_HEADERS }), 413, "too-large");
      expect((await small.call("POST", "/v1/objects/w1/facts", { json: { facts: { a: 1 } } })).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe("routing", () => {
  test.each([
    ["GET", "/"],
    ["GET", "/v2/objects"],
    ["GET", "/v1/objects/w1/nothing"],
    ["POST", "/v1/nothing"],
    ["GET", "/v1/objects/w1/facts/extra"],
  ])("%s %s is a 404 problem", async (method, path) => {
    const problem = expectProblem(await h.call(method, path), 404, "not-found");
    expect(problem.detail).toContain(path);
  });

  test.each([
    ["POST", "/v1/objects/w1", "GET, HEAD, PUT, DELETE"],
    ["PATCH", "/v1/objects/w1", "GET, HEAD, PUT, DELETE"],
    ["GET", "/v1/objects/w1/facts", "POST"],
    ["DELETE", "/v1/objects", "GET, HEAD"],
    ["GET", "/v1/facts", "POST"],
    ["PUT", "/v1/policies/validate", "GET, HEAD, POST"],
    ["POST", "/healthz", "GET, HEAD"],
  ])("%s %s is a 405 allowing %s", async (method, path, allow) => {
    const reply = await h.call(method, path);
    expectProblem(reply, 405, "method-not-allowed");
    expect(reply.headers.get("allow")!.split(", ").sort()).toEqual(allow.split(", ").sort());
  });

  test("HEAD answers like GET, without a body", async () => {
    const reply = await h.call("HEAD", "/v1/objects/w1");
    expect(reply.status).toBe(200);
    expect(reply.text).toBe("");
  });
});

describe("unexpected errors", () => {
  test("become a 500 problem that leaks neither message nor stack, and are reported", async () => {
    const reported: unknown[] = [];
    const boom = new Error("SQLITE_CORRUPT at /var/lib/vigil/data.db");
    const governor: GovernorApi = Object.create(h.services.governor, {
      listObjects: { value: async () => Promise.reject(boom) },
    });
    const broken = await setup({ governor, onInternalError: (e) => reported.push(e) });
    try {
      const reply = await broken.call("GET", "/v1/objects");
      const problem = expectProblem(reply, 500, "internal");
      expect(reply.text).not.toMatch(/SQLITE|var\/lib|\.ts|at /);
      expect(problem.errors).toBeUndefined();
      expect(reported).toEqual([boom]);
    } finally {
      await broken.close();
    }
  });

  test("an internal error on one batch item is reported and answered as that item's 500; the others commit", async () => {
    const reported: unknown[] = [];
    const boom = new Error("disk I/O error on item");
    const real = h.services.governor;
    const governor: GovernorApi = Object.create(real, {
      postFactsBatch: {
        value: async (items: Parameters<GovernorApi["postFactsBatch"]>[0]) => {
          const results = await real.postFactsBatch(items.slice(1));
          return [{ objectId: items[0]!.objectId, error: boom }, ...results];
        },
      },
    });
    const broken = await setup({ governor, onInternalError: (e) => reported.push(e) });
    try {
      const reply = await broken.call("POST", "/v1/facts", {
        json: {
          items: [
            { objectId: "w1", facts: { n: 1 } },
            { objectId: "w1", facts: { n: 2 } },
          ],
        },
      });
      expect(reply.status).toBe(200);
      expect(reply.body.results[0].error).toMatchObject({ status: 500, type: "https://vigil.dev/problems/internal" });
      expect(reply.text).not.toContain("disk I/O");
      expect(reply.body.results[1].decisionId).toEqual(expect.any(String));
      expect(reported).toEqual([boom]);
    } finally {
      await broken.close();
    }
  });
});
