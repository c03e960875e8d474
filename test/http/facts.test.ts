// Facts over HTTP: one object's patch and its decision, idempotent replays, and batches in
// which each item fails alone.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectProblem, nested, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
  await h.services.governor.putObject("w2", { policy: "queue-worker" });
});
afterEach(() => h.close());

const post = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  h.call("POST", `/v1/objects/${id}/facts`, { json: body, headers });

describe("POST /v1/objects/:id/facts", () => {
  test("merges the patch, evaluates, and replies with the object and the decision", async () => {
    const reply = await post("w1", { facts: { queue: { depth: 3 } } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("idempotent-replayed")).toBeNull();
    const { object, decision } = reply.body;
    expect(object).toMatchObject({ id: "w1", memory: { queue: { depth: 3 } }, memoryVersion: 1, state: "waking" });
    expect(decision).toMatchObject({
      objectId: "w1",
      trigger: { kind: "facts" },
      outcome: "wake",
      fromState: "dormant",
      toState: "waking",
      dryRun: false,
    });
    expect(decision.fired.map((f: { rule: string }) => f.rule)).toEqual(["backlog-wake"]);
    expect(decision.actions.map((a: { kind: string }) => a.kind)).toEqual(["start"]);
    expect(object.lastDecisionId).toBe(decision.id);
  });

  test("null removes a member (JSON Merge Patch)", async () => {
    await post("w1", { facts: { a: 1, b: 2 } });
    const reply = await post("w1", { facts: { a: null } });
    expect(reply.body.object.memory).toEqual({ b: 2 });
  });

  test("accepts application/merge-patch+json", async () => {
    const reply = await h.call("POST", "/v1/objects/w1/facts", {
      raw: JSON.stringify({ facts: { x: 1 } }),
      headers: { "content-type": "application/merge-patch+json" },
    });
    expect(reply.status).toBe(200);
  });

  test.each([
    ["facts that are not an object", { facts: [1, 2] }, "$.facts"],
    ["facts that are a string", { facts: "depth=3" }, "$.facts"],
    ["missing facts", {}, "$.facts"],
    ["an unknown property", { facts: {}, extra: 1 }, "$.extra"],
    ["a __proto__ key", JSON.parse('{"facts":{"a":{"__proto__":{"polluted":true}}}}'), "$.facts.a.__proto__"],
    ["a constructor key", { facts: { constructor: { prototype: 1 } } }, "$.facts.constructor"],
    ["a patch nested too deep for memory", { facts: nested(20) }, "$.facts"],
  ])("%s is a 422 naming %s", async (_label, body, path) => {
    const problem = expectProblem(await post("w1", body), 422, "validation");
    expect(problem.errors.some((e: { path: string }) => e.path.startsWith(path))).toBe(true);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("a patch over the governor's patch limit is a 422, not a 5xx", async () => {
    const reply = await post("w1", { facts: { blob: "x".repeat(100 * 1024) } });
    expectProblem(reply, 422, "validation");
  });

  test("an unknown object is a 404", async () => {
    expectProblem(await post("ghost", { facts: { a: 1 } }), 404, "not-found");
  });

  test("an invalid id is a 422 naming $.id", async () => {
    const problem = expectProblem(await post("a%20b", { facts: {} }), 422, "validation");
    expect(problem.errors[0].path).toBe("$.id");
  });
});

describe("Idempotency-Key", () => {
  test("a replay answers 200 with the same decision and the object as it is now, and applies nothing", async () => {
    const first = await post("w1", { facts: { queue: { depth: 1 } } }, { "idempotency-key": "job-42" });
    expect(first.status).toBe(200);
    const replay = await post("w1", { facts: { queue: { depth: 1 } } }, { "idempotency-key": "job-42" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.decision.id).toBe(first.body.decision.id);
    // The same decision, its start action's status read as it is now (confirmed meanwhile).
    expect(replay.body.decision).toEqual({
      ...first.body.decision,
      actions: [{ ...first.body.decision.actions[0], status: "confirmed" }],
    });
    expect(replay.body.object).toEqual((await h.call("GET", "/v1/objects/w1")).body);
    expect(replay.body.object.memoryVersion).toBe(1);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(1);
    const decisions = await h.call("GET", "/v1/objects/w1/decisions");
    expect(decisions.body.items.filter((d: { trigger: { kind: string } }) => d.trigger.kind === "facts")).toHaveLength(
      1,
    );
  });

  test("a replay whose decision retention has pruned is a 409, and applies nothing", async () => {
    const first = await post("w1", { facts: { n: 1 } }, { "idempotency-key": "old" });
    const store = h.services.store;
    await store.deleteDecisions((await store.oldDecisions(Number.MAX_SAFE_INTEGER, 1000)).map((d) => d.id));
    const problem = expectProblem(await post("w1", { facts: { n: 1 } }, { "idempotency-key": "old" }), 409, "conflict");
    expect(problem.detail).toContain(first.body.decision.id);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(1);
  });

  test("keys are per object", async () => {
    await post("w1", { facts: { n: 1 } }, { "idempotency-key": "k" });
    const other = await post("w2", { facts: { n: 1 } }, { "idempotency-key": "k" });
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(other.body.object.memoryVersion).toBe(1);
  });

  test("the same key with a different body is a 409", async () => {
    await post("w1", { facts: { n: 1 } }, { "idempotency-key": "k" });
    expectProblem(await post("w1", { facts: { n: 2 } }, { "idempotency-key": "k" }), 409, "conflict");
    expect((await h.services.governor.getObject("w1"))!.memory).toEqual({ n: 1 });
  });

  test.each([
    ["empty", ""],
    ["with a space", "a b"],
    ["201 characters", "k".repeat(201)],
  ])("a key %s is a 422 naming the header", async (_label, key) => {
    const problem = expectProblem(await post("w1", { facts: { n: 1 } }, { "idempotency-key": key }), 422, "validation");
    expect(problem.errors).toEqual([{ path: "$.headers.Idempotency-Key", message: expect.any(String) }]);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
  });
});

describe("POST /v1/facts", () => {
  test("applies every item and reports each decision", async () => {
    const reply = await h.call("POST", "/v1/facts", {
      json: {
        items: [
          { objectId: "w1", facts: { queue: { depth: 2 } } },
          { objectId: "w2", facts: { jobs: { inflight: 1 } } },
        ],
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.results).toEqual([
      { objectId: "w1", decisionId: expect.stringMatching(/^dec_/), outcome: "wake" },
      { objectId: "w2", decisionId: expect.stringMatching(/^dec_/), outcome: "hold-active" },
    ]);
    expect((await h.services.governor.getObject("w2"))!.memory).toMatchObject({ jobs: { inflight: 1 } });
  });

  test("a bad item fails alone, in place", async () => {
    const reply = await h.call("POST", "/v1/facts", {
      json: {
        items: [
          { objectId: "w1", facts: { queue: { depth: 1 } } },
          { objectId: "ghost", facts: { a: 1 } },
          { objectId: "not an id", facts: { a: 1 } },
          { objectId: "w2", facts: [1, 2, 3] },
          { objectId: "w2", facts: { ok: true } },
        ],
      },
    });
    expect(reply.status).toBe(200);
    const [ok, unknown, badId, badFacts, ok2] = reply.body.results;
    expect(ok).toMatchObject({ objectId: "w1", outcome: "wake" });
    expect(unknown).toMatchObject({ objectId: "ghost", error: { status: 404 } });
    expect(badId).toMatchObject({
      objectId: "not an id",
      error: { status: 422, errors: [{ path: "$.items[2].objectId" }] },
    });
    expect(badFacts).toMatchObject({ objectId: "w2", error: { status: 422, errors: [{ path: "$.items[3].facts" }] } });
    expect(ok2).toMatchObject({ objectId: "w2", decisionId: expect.any(String) });
    expect(ok.error).toBeUndefined();
    expect((await h.services.governor.getObject("w1"))!.memory).toMatchObject({ queue: { depth: 1 } });
    expect((await h.services.governor.getObject("w2"))!.memory).toEqual({ ok: true });
  });

  test("idempotency keys replay per item", async () => {
    const body = { items: [{ objectId: "w1", facts: { n: 1 }, idempotencyKey: "b-1" }] };
    const first = await h.call("POST", "/v1/facts", { json: body });
    const again = await h.call("POST", "/v1/facts", { json: body });
    expect(again.body.results[0].decisionId).toBe(first.body.results[0].decisionId);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(1);
  });

  test.each([
    ["no items", { items: [] }, "$.items"],
    ["items that are not an array", { items: {} }, "$.items"],
    ["an item without objectId", { items: [{ facts: {} }] }, "$.items[0].objectId"],
    ["an item with an unknown property", { items: [{ objectId: "w1", facts: {}, extra: 1 }] }, "$.items[0].extra"],
    [
      "a malformed idempotency key",
      {
        items: [
          { objectId: "w1", facts: {} },
          { objectId: "w1", facts: {}, idempotencyKey: "a b" },
        ],
      },
      "$.items[1].idempotencyKey",
    ],
    ["1001 items", { items: Array.from({ length: 1001 }, () => ({ objectId: "w1", facts: {} })) }, "$.items"],
  ])("%s refuses the whole batch with a 422 naming %s", async (_label, body, path) => {
    const problem = expectProblem(await h.call("POST", "/v1/facts", { json: body }), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
  });
});

describe("Prefer: return=minimal", () => {
  test("answers with the decision and its summary only, and says the preference was applied", async () => {
    const full = await post("w2", { facts: { queue: { depth: 2 } } });
    const reply = await post("w1", { facts: { queue: { depth: 2 } } }, { prefer: "return=minimal" });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("preference-applied")).toBe("return=minimal");
    expect(Object.keys(reply.body)).toEqual(["decision"]);
    const { decision } = reply.body;
    expect(decision).not.toHaveProperty("explanation");
    expect(decision.summary).toBe(full.body.decision.explanation.summary.replace("w2", "w1"));
    expect(decision).toMatchObject({ objectId: "w1", outcome: "wake", fromState: "dormant", toState: "waking" });
    // The arrival is applied and stored in full all the same.
    expect((await h.call("GET", `/v1/decisions/${decision.id}`)).body.explanation.rules.length).toBeGreaterThan(0);
  });

  test("other preferences are ignored: the full reply, no Preference-Applied", async () => {
    const reply = await post("w1", { facts: { n: 1 } }, { prefer: "return=representation" });
    expect(reply.headers.get("preference-applied")).toBeNull();
    expect(reply.body).toHaveProperty("object");
    expect(reply.body.decision).toHaveProperty("explanation");
  });
});
