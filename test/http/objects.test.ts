// Objects over HTTP: create/update, read, list with filters and cursors, delete.

import { objectView } from "../../src/http/views.ts";
import { DriverError } from "../../src/substrate/driver.ts";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectProblem, setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

const put = (id: string, json: unknown) => h.call("PUT", `/v1/objects/${id}`, { json });

describe("PUT /v1/objects/:id", () => {
  test("creates (201, Location) and then updates (200)", async () => {
    const created = await put("w1", { policy: "queue-worker" });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/v1/objects/w1");
    expect(created.headers.get("content-type")).toMatch(/^application\/json/);
    expect(created.body).toMatchObject({
      id: "w1",
      policy: { name: "queue-worker", version: "1" },
      state: "dormant",
      memory: {},
      memoryVersion: 0,
      substrate: { driver: "simulated", config: {} },
    });
    expect(created.body.lastDecisionId).toMatch(/^dec_/);

    const updated = await put("w1", { policy: "queue-worker", substrate: { driver: "simulated", config: {} } });
    expect(updated.status).toBe(200);
    expect(updated.headers.get("location")).toBeNull();
    expect(updated.body.id).toBe("w1");
  });

  test("takes initial memory", async () => {
    const reply = await put("w1", { policy: "queue-worker", memory: { queue: { depth: 0 } } });
    expect(reply.body.memory).toEqual({ queue: { depth: 0 } });
  });

  test("ids use the whole allowed alphabet, up to 128 characters", async () => {
    const id = "Az09._:-" + "x".repeat(120);
    const reply = await put(id, { policy: "queue-worker" });
    expect(reply.status).toBe(201);
    expect(reply.body.id).toBe(id);
  });

  test.each([
    ["a space", "a%20b"],
    ["129 characters", "x".repeat(129)],
    ["a slash", "a%2Fb"],
    ["non-ASCII", "%C3%A9t%C3%A9"],
    ["a broken escape", "%E0%A4%A"],
  ])("an id with %s is a 422 naming $.id", async (_label, id) => {
    const problem = expectProblem(await put(id, { policy: "queue-worker" }), 422, "validation");
    expect(problem.errors).toEqual([{ path: "$.id", message: expect.stringContaining("1-128 characters") }]);
  });

  test.each([
    ["a missing policy", {}, "$.policy"],
    ["an empty policy", { policy: "" }, "$.policy"],
    ["a policy that is not loaded", { policy: "no-such-policy" }, "$.policy"],
    ["an unknown property", { policy: "queue-worker", color: "red" }, "$.color"],
    ["an unknown driver", { policy: "queue-worker", substrate: { driver: "warp", config: {} } }, "$.substrate.driver"],
    ["memory that is not an object", { policy: "queue-worker", memory: [1] }, "$.memory"],
    ["a forbidden key in memory", { policy: "queue-worker", memory: { constructor: 1 } }, "$.memory.constructor"],
  ])("%s is a 422 naming %s", async (_label, body, path) => {
    const problem = expectProblem(await put("w1", body), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await h.services.governor.getObject("w1")).toBeNull();
  });

  test("changing the memory of an existing object is a 409", async () => {
    await put("w1", { policy: "queue-worker" });
    expectProblem(await put("w1", { policy: "queue-worker", memory: { other: 1 } }), 409, "conflict");
  });
});

describe("GET /v1/objects/:id", () => {
  test("returns the object", async () => {
    await put("w1", { policy: "queue-worker" });
    const reply = await h.call("GET", "/v1/objects/w1");
    expect(reply.status).toBe(200);
    const record = (await h.services.governor.getObject("w1"))!;
    expect(reply.body).toEqual(objectView(record, "1"));
    expect(reply.body).toMatchObject({
      policy: { name: "queue-worker", version: "1" },
      createdAt: "2026-03-01T00:00:00.000Z",
    });
  });

  test("an unknown object is a 404 problem", async () => {
    const problem = expectProblem(await h.call("GET", "/v1/objects/ghost"), 404, "not-found");
    expect(problem.detail).toContain("ghost");
  });
});

describe("GET /v1/objects", () => {
  beforeEach(async () => {
    for (const id of ["a", "b", "c"]) await put(id, { policy: "queue-worker" });
    await put("m", { policy: "continuous-monitor" });
  });

  test("lists every object", async () => {
    const reply = await h.call("GET", "/v1/objects");
    expect(reply.status).toBe(200);
    expect(reply.body.items.map((o: { id: string }) => o.id).sort()).toEqual(["a", "b", "c", "m"]);
    expect(reply.body.nextCursor).toBeUndefined();
  });

  test("filters by policy and state; empty parameters are ignored", async () => {
    const byPolicy = await h.call("GET", "/v1/objects?policy=queue-worker&state=");
    expect(byPolicy.body.items.map((o: { id: string }) => o.id).sort()).toEqual(["a", "b", "c"]);
    const none = await h.call("GET", "/v1/objects?state=failed");
    expect(none.body).toEqual({ items: [] });
  });

  test("pages with limit and nextCursor", async () => {
    const seen: string[] = [];
    let url = "/v1/objects?limit=3";
    for (let pages = 0; pages < 5; pages++) {
      const reply = await h.call("GET", url);
      expect(reply.status).toBe(200);
      seen.push(...reply.body.items.map((o: { id: string }) => o.id));
      if (!reply.body.nextCursor) break;
      url = `/v1/objects?limit=3&cursor=${encodeURIComponent(reply.body.nextCursor)}`;
    }
    expect(seen.sort()).toEqual(["a", "b", "c", "m"]);
  });

  test.each([
    ["limit=0", "$.query.limit"],
    ["limit=501", "$.query.limit"],
    ["limit=1.5", "$.query.limit"],
    ["limit=ten", "$.query.limit"],
    ["limit=1e2", "$.query.limit"],
    ["limit=%205", "$.query.limit"],
    ["limit=0x10", "$.query.limit"],
    ["state=asleep", "$.query.state"],
  ])("?%s is a 422 naming %s", async (query, path) => {
    const problem = expectProblem(await h.call("GET", `/v1/objects?${query}`), 422, "validation");
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([path]);
  });

  // "YQ" is the cursor for "a": the same with padding or a stray character is not one.
  test.each(["%25%25%25", "%ZZ", "YQ%3D%3D", "YQ!", "Y%20Q", "*YQ"])(
    "a cursor this server did not issue (%s) is a 422",
    async (cursor) => {
      expect((await h.call("GET", "/v1/objects?cursor=YQ")).status).toBe(200);
      expectProblem(await h.call("GET", `/v1/objects?cursor=${cursor}`), 422, "validation");
      expectProblem(await h.call("GET", `/v1/usage?cursor=${cursor}`), 422, "validation");
    },
  );
});

describe("DELETE /v1/objects/:id", () => {
  test("deletes (204, empty body), then the object is gone", async () => {
    await put("w1", { policy: "queue-worker" });
    const reply = await h.call("DELETE", "/v1/objects/w1");
    expect(reply.status).toBe(204);
    expect(reply.text).toBe("");
    expectProblem(await h.call("GET", "/v1/objects/w1"), 404, "not-found");
  });

  test("an unknown object is a 404", async () => {
    expectProblem(await h.call("DELETE", "/v1/objects/ghost"), 404, "not-found");
  });

  test("compute=keep and compute=stop are accepted; anything else is a 422 naming the parameter", async () => {
    await put("w1", { policy: "queue-worker" });
    await put("w2", { policy: "queue-worker" });
    expect((await h.call("DELETE", "/v1/objects/w1?compute=keep")).status).toBe(204);
    expect((await h.call("DELETE", "/v1/objects/w2?compute=stop")).status).toBe(204);
    await put("w3", { policy: "queue-worker" });
    const problem = expectProblem(await h.call("DELETE", "/v1/objects/w3?compute=later"), 422, "validation");
    expect(problem.errors[0].path).toBe("$.query.compute");
    expect(await h.services.governor.getObject("w3")).not.toBeNull();
  });

  test("a substrate that cannot stop the compute makes it a 503, and the object stays", async () => {
    await put("w1", { policy: "queue-worker" });
    h.services.driver.release = async () => {
      throw new Error("the machine is unreachable");
    };
    const problem = expectProblem(await h.call("DELETE", "/v1/objects/w1"), 503, "unavailable");
    expect(problem.detail).toContain("the machine is unreachable; try again, or delete with compute=keep");
    expect(await h.services.governor.getObject("w1")).not.toBeNull();
  });

  test("a lasting failure to stop the compute says to fix it, not merely to try again", async () => {
    await put("w1", { policy: "queue-worker" });
    h.services.driver.release = async () => {
      throw new DriverError("fly: no API token: set FLY_API_TOKEN in the server's environment", false);
    };
    const problem = expectProblem(await h.call("DELETE", "/v1/objects/w1"), 503, "unavailable");
    expect(problem.detail).toMatch(
      /: fly: no API token: set FLY_API_TOKEN in the server's environment; fix that and try again, or delete with compute=keep$/,
    );
    expect(await h.services.governor.getObject("w1")).not.toBeNull();
  });

  test("a rebind whose stop fails is told its own way on, not compute=keep, which a PUT does not read", async () => {
    await put("w1", { policy: "queue-worker" });
    const before = await h.services.governor.getObject("w1");
    const rebind = { policy: "queue-worker", substrate: { driver: "simulated", config: { startMs: 1 } } };
    h.services.driver.release = async () => {
      throw new Error("the machine is unreachable");
    };
    const problem = expectProblem(await put("w1", rebind), 503, "unavailable");
    expect(problem.detail).toMatch(
      /: the machine is unreachable; try again, or, to leave that compute running, delete the object with compute=keep and create it again on the new binding$/,
    );
    h.services.driver.release = async () => {
      throw new DriverError("fly: no API token: set FLY_API_TOKEN in the server's environment", false);
    };
    const lasting = expectProblem(await put("w1", rebind), 503, "unavailable");
    expect(lasting.detail).toMatch(
      /environment; fix that and try again, or, to leave that compute running, delete the object with compute=keep and create it again on the new binding$/,
    );
    expect(await h.services.governor.getObject("w1")).toEqual(before);
  });

  test("an invalid id is a 422", async () => {
    expectProblem(await h.call("DELETE", "/v1/objects/a%20b"), 422, "validation");
  });
});
