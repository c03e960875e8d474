// Conditional PUT and DELETE (RFC 9110 13.1.1-2). Objects carry no entity tags, so `*` is the
// only tag that can match: If-None-Match: * creates only, If-Match: * updates (or deletes) only
// an existing object, an If-Match listing tags never holds. A precondition that does not hold is
// a 412 that changes nothing; a DELETE of a missing object stays a 404 whatever they say.
// Found in a review: both headers were ignored, so a client asking for "create only" overwrote.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { preconditionOf } from "../../src/http/validation.ts";
import { expectProblem, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

const put = (id: string, json: unknown, headers: Record<string, string> = {}) =>
  h.call("PUT", `/v1/objects/${id}`, { json, headers });
const del = (id: string, headers: Record<string, string> = {}) => h.call("DELETE", `/v1/objects/${id}`, { headers });

describe("the headers read", () => {
  test.each([
    [undefined, undefined, undefined],
    ["*", undefined, "exists"],
    [" * ", undefined, "exists"],
    ['"abc"', undefined, "never"],
    ['*, "abc"', undefined, "never"],
    [undefined, "*", "absent"],
    [undefined, '"abc"', undefined],
    ["*", "*", "never"],
    ['"abc"', "*", "never"],
    // `*` among other members (no grammar allows it; `If-None-Match: *` sent twice reaches the
    // server as `*, *`) is read as `*`: ignored, the tags' reading, a create-only PUT overwrote.
    [undefined, "*, *", "absent"],
    [undefined, '"abc", *', "absent"],
    [undefined, 'W/"a,*", "b"', undefined],
    ["*", "*, *", "never"],
  ])("If-Match %j, If-None-Match %j: %s", (ifMatch, ifNoneMatch, expected) => {
    expect(preconditionOf(ifMatch, ifNoneMatch)).toBe(expected);
  });
});

describe("PUT", () => {
  test("If-None-Match: * creates, and is a 412 once the object exists, changing nothing", async () => {
    expect((await put("w", { policy: "queue-worker" }, { "if-none-match": "*" })).status).toBe(201);
    const refused = expectProblem(
      await put("w", { policy: "on-demand" }, { "if-none-match": "*" }),
      412,
      "precondition-failed",
    );
    expect(refused.detail).toBe('If-None-Match: * asks for no object, and "w" exists');
    expect((await h.call("GET", "/v1/objects/w")).body.policy.name).toBe("queue-worker");
  });

  test("If-Match: * is a 412 for a missing object (nothing created), and updates an existing one", async () => {
    expectProblem(await put("w", { policy: "queue-worker" }, { "if-match": "*" }), 412, "precondition-failed");
    expect((await h.call("GET", "/v1/objects/w")).status).toBe(404);
    await put("w", { policy: "queue-worker" });
    const updated = await put("w", { policy: "on-demand" }, { "if-match": "*" });
    expect(updated.status).toBe(200);
    expect(updated.body.policy.name).toBe("on-demand");
  });

  test("If-Match with entity tags never holds: a 412 before the body is read", async () => {
    await put("w", { policy: "queue-worker" });
    expectProblem(await put("w", { policy: "on-demand" }, { "if-match": '"v1"' }), 412, "precondition-failed");
    // Not a 422 for the body: the precondition comes first.
    expectProblem(await put("w", { nope: 1 }, { "if-match": '"v1"' }), 412, "precondition-failed");
    expect((await h.call("GET", "/v1/objects/w")).body.policy.name).toBe("queue-worker");
  });

  test("If-Match: * sent twice (`*, *`) never holds, and the 412 says why, not that tags were sent", async () => {
    await put("w", { policy: "queue-worker" });
    const refused = expectProblem(
      await put("w", { policy: "on-demand" }, { "if-match": "*, *" }),
      412,
      "precondition-failed",
    );
    expect(refused.detail).toContain('If-Match: * sent twice arrives as "*, *"');
    expect((await h.call("GET", "/v1/objects/w")).body.policy.name).toBe("queue-worker");
  });

  test("If-None-Match with entity tags is ignored (no object has them)", async () => {
    expect((await put("w", { policy: "queue-worker" }, { "if-none-match": '"v1"' })).status).toBe(201);
    expect((await put("w", { policy: "on-demand" }, { "if-none-match": '"v1"' })).status).toBe(200);
  });
});

describe("DELETE", () => {
  test("If-None-Match: * or If-Match with tags is a 412 for an existing object, which stays", async () => {
    await put("w", { policy: "queue-worker" });
    expectProblem(await del("w", { "if-none-match": "*" }), 412, "precondition-failed");
    expectProblem(await del("w", { "if-match": '"v1"' }), 412, "precondition-failed");
    expect((await h.call("GET", "/v1/objects/w")).status).toBe(200);
    expect((await del("w", { "if-match": "*" })).status).toBe(204);
    expect((await h.call("GET", "/v1/objects/w")).status).toBe(404);
  });

  test("a missing object is a 404 whatever the headers say", async () => {
    const cases: Record<string, string>[] = [{ "if-match": "*" }, { "if-match": '"v1"' }, { "if-none-match": "*" }];
    for (const headers of cases) expectProblem(await del("gone", headers), 404, "not-found");
  });
});
