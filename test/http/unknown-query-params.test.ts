// A query parameter the route does not read is a 422 naming it, on every route that reads a
// query: ignored, a misspelt name did something else than asked, silently. `DELETE
// /v1/objects/{id}?compte=keep` stopped the compute the client meant to keep (and deleted the
// object), `?limt=1` listed a page of 50. Real HTTP on a port of its own (hono answers these).

import { afterAll, beforeAll, expect, test } from "vitest";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 1 << 20);
  await served.services.governor.putObject("w2", { policy: "queue-worker" });
});
afterAll(() => served.close());

async function call(method: string, path: string) {
  const res = await fetch(`http://127.0.0.1:${served.port}${path}`, { method });
  // A stream that opened (the parameter was ignored) is not read to its end, which never comes.
  if (res.headers.get("content-type") === "text/event-stream") await res.body?.cancel();
  const text = res.bodyUsed ? "" : await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: text === "" ? undefined : JSON.parse(text),
  };
}

test("DELETE with a misspelt compute=keep is refused, the object and its compute left as they were", async () => {
  const { governor, driver } = served.services;
  expect((await governor.postFacts("w1", { queue: { depth: 3 } })).decision.outcome).toBe("wake");
  await served.services.advance(60_000);
  expect((await governor.getObject("w1"))?.state).toBe("active");

  const res = await call("DELETE", "/v1/objects/w1?compte=keep");
  expect(res.status).toBe(422);
  expect(res.type).toBe("application/problem+json");
  expect(res.body.errors).toEqual([{ path: "$.query.compte", message: "unknown parameter; this route reads compute" }]);
  await served.services.advance(60_000);
  expect((await governor.getObject("w1"))?.state).toBe("active");
  expect((await driver.observe({ objectId: "w1", config: {} })).status).toBe("running");
});

test.each([
  ["GET", "/v1/objects?limt=1", "limt", "state, policy, limit, cursor"],
  ["GET", "/v1/objects/w2/decisions?befor=dec_0000000000000", "befor", "limit, before"],
  ["GET", "/v1/events?type=action", "type", "objectId, types, lastEventId"],
  ["GET", "/v1/objects/w2/usage?form=2026-03-01T00:00:00Z", "form", "from, to"],
  ["GET", "/v1/usage?policies=queue-worker", "policies", "from, to, policy, limit, cursor"],
  ["GET", "/ui/objects/w2/timeline.svg?start=2026-03-01T00:00:00Z", "start", "from, to"],
])("%s %s is a 422 naming $.query.%s", async (method, path, name, reads) => {
  const res = await call(method, path);
  expect(res.status).toBe(422);
  expect(res.type).toBe("application/problem+json");
  expect(res.body.errors).toEqual([
    { path: `$.query.${name}`, message: `unknown parameter; this route reads ${reads}` },
  ]);
});

// In the project's path format (formatPath): `.name` for a plain name, `["..."]` for any other.
test.each([
  ["%", '$.query["%"]'],
  ["a%20b", '$.query["a b"]'],
  ["0", '$.query["0"]'],
  ["x.y", '$.query["x.y"]'],
  ["%22q%22", '$.query["\\"q\\""]'],
])("an unknown parameter named %s is named %s", async (name, path) => {
  const res = await call("GET", `/v1/objects?${name}=5`);
  expect(res.status).toBe(422);
  expect(res.type).toBe("application/problem+json");
  expect(res.body.errors).toEqual([
    { path, message: "unknown parameter; this route reads state, policy, limit, cursor" },
  ]);
});

test("an unknown parameter left empty counts as absent, as a known one does", async () => {
  expect((await call("GET", "/v1/objects?limt=&limit=1")).status).toBe(200);
});

test("a URL of many unknown parameters is told the first 20", async () => {
  const query = Array.from({ length: 500 }, (_, i) => `p${i}=1`).join("&");
  const res = await call("GET", `/v1/objects?${query}`);
  expect(res.status).toBe(422);
  expect(res.body.errors).toHaveLength(20);
  expect(res.body.errors[0].path).toBe("$.query.p0");
});

test("a parameter with an empty name and a value is a 422, which hono's reading of the query drops", async () => {
  for (const path of ["/v1/objects?=5", "/v1/objects?limit=1&=5", "/v1/events?=x"]) {
    const res = await call("GET", path);
    expect(res.status, path).toBe(422);
    expect(res.type).toBe("application/problem+json");
    expect(res.body.errors[0]).toMatchObject({ path: '$.query[""]' });
    expect(res.body.errors[0].message).toMatch(/^a parameter with no name; this route reads /);
  }
  expect((await call("GET", "/v1/objects?=&limit=1")).status).toBe(200);
});
