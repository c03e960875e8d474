// Decisions over HTTP: dry runs that store nothing, an object's history newest first, and
// one decision with its explanation.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectProblem, queueWorkerPolicy, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(() => h.close());

const evaluate = (body?: unknown, id = "w1") =>
  h.call("POST", `/v1/objects/${id}/evaluate`, body === undefined ? {} : { json: body });
const history = async () => (await h.call("GET", "/v1/objects/w1/decisions")).body.items as { id: string }[];

describe("POST /v1/objects/:id/evaluate", () => {
  test("with facts: a facts arrival, dryRun, and nothing stored", async () => {
    const before = { object: await h.services.governor.getObject("w1"), decisions: await history() };
    const reply = await evaluate({ facts: { queue: { depth: 5 } } });
    expect(reply.status).toBe(200);
    expect(reply.body.decision).toMatchObject({
      trigger: { kind: "facts" },
      outcome: "wake",
      dryRun: true,
      objectId: "w1",
    });
    expect(await h.services.governor.getObject("w1")).toEqual(before.object);
    expect(await history()).toEqual(before.decisions);
    expectProblem(await h.call("GET", `/v1/decisions/${reply.body.decision.id}`), 404, "not-found");
  });

  test("without a body: a manual evaluation", async () => {
    const reply = await evaluate();
    expect(reply.status).toBe(200);
    expect(reply.body.decision).toMatchObject({ trigger: { kind: "manual" }, dryRun: true });
  });

  test("at a given time", async () => {
    const reply = await evaluate({ at: "2026-03-01T06:00:00+01:00" });
    expect(reply.body.decision.at).toBe("2026-03-01T05:00:00.000Z");
  });

  test("against a candidate policy", async () => {
    const candidate = queueWorkerPolicy();
    candidate.version = "2-candidate";
    candidate.rules[0].conditions.all[0].value = 10;
    const reply = await evaluate({ facts: { queue: { depth: 5 } }, policy: candidate });
    expect(reply.status).toBe(200);
    expect(reply.body.decision.policy).toMatchObject({ name: "queue-worker", version: "2-candidate" });
    expect(reply.body.decision.fired).toEqual([]);
  });

  test.each([
    ["an invalid candidate policy", { policy: { name: "x" } }, "$.policy"],
    ["a time that is not ISO 8601", { at: "yesterday" }, "$.at"],
    ["an impossible date", { at: "2026-02-30T00:00:00Z" }, "$.at"],
    ["facts that are not an object", { facts: 3 }, "$.facts"],
    ["an unknown property", { fact: {} }, "$.fact"],
  ])("%s is a 422 naming %s", async (_label, body, path) => {
    const problem = expectProblem(await evaluate(body), 422, "validation");
    expect(problem.errors.some((e: { path: string }) => e.path.startsWith(path))).toBe(true);
  });

  test("an unknown object is a 404", async () => {
    expectProblem(await evaluate({}, "ghost"), 404, "not-found");
  });
});

describe("GET /v1/objects/:id/decisions", () => {
  beforeEach(async () => {
    await h.services.governor.postFacts("w1", { queue: { depth: 1 } });
    await h.services.governor.postFacts("w1", { queue: { depth: 2 } });
  });

  test("newest first", async () => {
    const reply = await h.call("GET", "/v1/objects/w1/decisions");
    expect(reply.status).toBe(200);
    const kinds = reply.body.items.map((d: { trigger: { kind: string } }) => d.trigger.kind);
    expect(kinds.at(-1)).toBe("create");
    expect(kinds.filter((k: string) => k === "facts")).toHaveLength(2);
    const ids = reply.body.items.map((d: { id: string }) => d.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(ids[0]).toBe((await h.services.governor.getObject("w1"))!.lastDecisionId);
  });

  test("pages with limit and before", async () => {
    const all = (await h.call("GET", "/v1/objects/w1/decisions")).body.items.map((d: { id: string }) => d.id);
    const first = await h.call("GET", "/v1/objects/w1/decisions?limit=1");
    expect(first.body.items.map((d: { id: string }) => d.id)).toEqual(all.slice(0, 1));
    const rest = await h.call("GET", `/v1/objects/w1/decisions?before=${first.body.items[0].id}`);
    expect(rest.body.items.map((d: { id: string }) => d.id)).toEqual(all.slice(1));
  });

  test.each(["limit=0", "limit=-1", "limit=x", "limit=501", "limit=1e1", "limit=%2B5"])(
    "?%s is a 422 naming $.query.limit",
    async (query) => {
      const problem = expectProblem(await h.call("GET", `/v1/objects/w1/decisions?${query}`), 422, "validation");
      expect(problem.errors[0].path).toBe("$.query.limit");
    },
  );

  test.each([
    ["a word", "nope"],
    ["the prefix alone", "dec_"],
    ["a short id", "dec_0123456789ab"],
    ["another prefix", "act_0000000000000000000000000"],
    ["upper case", "dec_0000000000000ABCDEF12"],
    ["a trailing character", "dec_00000000000000000abcdef12-"],
    ["a space", "dec_0000000000000%2000abcdef12"],
  ])("?before= %s (%s) is a 422 naming $.query.before", async (_label, before) => {
    const problem = expectProblem(await h.call("GET", `/v1/objects/w1/decisions?before=${before}`), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual(["$.query.before"]);
  });

  test("?before= a well-formed id no decision has still pages (older than it)", async () => {
    const all = await history();
    // Sorts after every id minted so far (time part "zzzzzzzzz"): everything is older.
    const reply = await h.call("GET", "/v1/objects/w1/decisions?before=dec_zzzzzzzzz0000ffffffff");
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.items).toEqual(all);
    // Sorts before every id: nothing is older.
    const none = await h.call("GET", "/v1/objects/w1/decisions?before=dec_0000000000000");
    expect(none.body.items).toEqual([]);
  });

  test("an empty ?before= counts as absent", async () => {
    const reply = await h.call("GET", "/v1/objects/w1/decisions?before=");
    expect(reply.status).toBe(200);
    expect(reply.body.items).toEqual(await history());
  });

  test("an unknown object is a 404", async () => {
    expectProblem(await h.call("GET", "/v1/objects/ghost/decisions"), 404, "not-found");
  });
});

describe("GET /v1/decisions/:id", () => {
  test("returns the decision with its explanation", async () => {
    const { decision } = await h.services.governor.postFacts("w1", { queue: { depth: 1 } });
    const reply = await h.call("GET", `/v1/decisions/${decision.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: decision.id, objectId: "w1", outcome: "wake", dryRun: false });
    expect(reply.body.explanation).toBeDefined();
  });

  test.each([
    ["an unknown id", "dec_nope"],
    ["a very long id", "d".repeat(5000)],
    ["an id with odd characters", "%22%3B%20DROP%20TABLE"],
  ])("%s is a 404", async (_label, id) => {
    expectProblem(await h.call("GET", `/v1/decisions/${id}`), 404, "not-found");
  });
});
