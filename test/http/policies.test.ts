// Policies and probes over HTTP.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { compilePolicy } from "../../src/core/compile.ts";
import { loadPolicyText } from "../../src/governor/policy-registry.ts";
import type { GovernorApi } from "../../src/governor/services.ts";
import { expectProblem, queueWorkerPolicy, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

describe("GET /v1/policies", () => {
  test("lists loaded policies with version and content hash, and refused files", async () => {
    const reply = await h.call("GET", "/v1/policies");
    expect(reply.status).toBe(200);
    expect(reply.body.errors).toEqual([]);
    const qw = reply.body.items.find((p: { name: string }) => p.name === "queue-worker");
    expect(qw).toMatchObject({ name: "queue-worker", version: "1", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(qw.rules).toEqual(["backlog-wake", "job-in-flight", "idle"]);
  });

  test("GET /v1/policies/:name returns one policy", async () => {
    const reply = await h.call("GET", "/v1/policies/queue-worker");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ name: "queue-worker", version: "1" });
  });

  test("each policy says which engine evaluates its rules", async () => {
    const list = await h.call("GET", "/v1/policies");
    expect(list.body.items.map((p: { engine: unknown }) => p.engine)).toEqual(
      list.body.items.map(() => ({ name: "compiled" })),
    );
    const one = await h.call("GET", "/v1/policies/queue-worker");
    expect(one.body.engine).toEqual({ name: "compiled" });
  });

  test("a policy that runs on json-rules-engine says so, and why", async () => {
    // Every policy validation accepts compiles; the registry is given one on json-rules-engine.
    const doc = queueWorkerPolicy();
    doc.name = "fallback";
    const loaded = loadPolicyText(JSON.stringify(doc), "fallback.json", Date.now());
    if (!loaded.ok) return expect.fail(JSON.stringify(loaded.error));
    const { info, compiled: served } = loaded.policy;
    const compiled = compilePolicy(served.document, info.hash, { engine: "json-rules-engine" });
    h.services.policies.add({ compiled, info: { ...info, engine: { ...compiled.engine } } });
    const reply = await h.call("GET", "/v1/policies/fallback");
    expect(reply.status).toBe(200);
    expect(reply.body.engine).toEqual({ name: "json-rules-engine", reason: "json-rules-engine was asked for" });
    const list = await h.call("GET", "/v1/policies");
    expect(list.body.items.find((p: { name: string }) => p.name === "fallback").engine.name).toBe("json-rules-engine");
  });

  test("an unknown policy is a 404", async () => {
    const problem = expectProblem(await h.call("GET", "/v1/policies/nope"), 404, "not-found");
    expect(problem.detail).toContain("nope");
  });
});

describe("POST /v1/policies/validate", () => {
  test("a valid document: 200 with warnings", async () => {
    const reply = await h.call("POST", "/v1/policies/validate", { json: queueWorkerPolicy() });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ valid: true, warnings: [] });
  });

  test("coercion corners come back as warnings", async () => {
    const doc = queueWorkerPolicy();
    doc.rules[0].conditions.all[0].value = "0";
    const reply = await h.call("POST", "/v1/policies/validate", { json: doc });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings.map((w: { path: string }) => w.path)).toContain("$.rules[0].conditions.all[0].value");
  });

  test.each([
    ["an unknown event type", (d: any) => void (d.rules[0].event.type = "explode"), "$.rules[0].event.type"],
    ["a missing name", (d: any) => void delete d.name, "$.name"],
  ])("%s: 422 problem naming %s", async (_label, spoil, path) => {
    const doc = queueWorkerPolicy();
    spoil(doc);
    const problem = expectProblem(await h.call("POST", "/v1/policies/validate", { json: doc }), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  test.each([["[]"], ["42"], ["null"], ['"policy"']])("a body of %s is a 422, not a 5xx", async (raw) => {
    const reply = await h.call("POST", "/v1/policies/validate", {
      raw,
      headers: { "content-type": "application/json" },
    });
    expectProblem(reply, 422, "validation");
  });
});

describe("probes", () => {
  test("GET /healthz", async () => {
    const reply = await h.call("GET", "/healthz");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: "ok" });
  });

  test("GET /readyz when ready", async () => {
    const reply = await h.call("GET", "/readyz");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: "ready" });
  });

  test.each([
    ["says no", async () => "the database does not answer", "not ready: the database does not answer"],
    ["throws", async () => Promise.reject(new Error("database gone")), "not ready: the readiness check failed"],
  ])("GET /readyz is a 503 problem when the governor %s", async (_label, notReadyAnswer, detail) => {
    // The real governor, with only its readiness answer replaced.
    const governor: GovernorApi = Object.create(h.services.governor, { notReady: { value: notReadyAnswer } });
    const notReady = await setup({ governor });
    try {
      const problem = expectProblem(await notReady.call("GET", "/readyz"), 503, "unavailable");
      expect(problem.detail).toBe(detail);
    } finally {
      await notReady.close();
    }
  });
});
