// No input produces a 5xx: odd bodies, odd ids and odd query strings against every route.

import { afterAll, beforeAll, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterAll(() => h.close());

const BODIES = [
  "null",
  "[]",
  '"text"',
  "0",
  "1e999",
  "{}",
  '{"facts":null}',
  '{"facts":{"a":1e999}}',
  '{"facts":{"a":-0}}',
  '{"facts":{"\\ud800":"\\udfff"}}',
  `{"facts":{"${"k".repeat(10_000)}":1}}`,
  '{"facts":{"a":1},"facts":[]}',
  '{"items":null}',
  '{"items":[null]}',
  '{"items":[{"objectId":"","facts":{}}]}',
  '{"items":[{"objectId":"w1","facts":{"prototype":{}}}]}',
  '{"policy":null}',
  '{"policy":{"name":"queue-worker","version":"9","rules":[{"name":"r","conditions":{"all":[{"fact":"memory","path":"$$$","operator":"equal","value":1}]},"event":{"type":"wake"}}]}}',
  '{"at":null}',
  '{"at":"275760-09-13T00:00:01Z"}',
  '{"at":"+275760-09-13T00:00:00Z"}',
  '{"facts":{},"at":"9999-12-31T23:59:59Z"}',
  '{"name":1,"rules":"x"}',
  '{"substrate":{"driver":"simulated","config":{"latencyMs":-1}},"policy":"queue-worker"}',
  '{"policy":"queue-worker","memory":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{}}}}}}}}}}}}}}}}}}}',
];

const ROUTES: [string, string][] = [
  ["PUT", "/v1/objects/h1"],
  ["POST", "/v1/objects/w1/facts"],
  ["POST", "/v1/facts"],
  ["POST", "/v1/objects/w1/evaluate"],
  ["POST", "/v1/policies/validate"],
];

test.each(ROUTES)("%s %s answers every odd body below 500", async (method, path) => {
  for (const raw of BODIES) {
    const reply = await h.call(method, path, { raw, headers: { "content-type": "application/json" } });
    expect(reply.status, `${method} ${path} ${raw.slice(0, 80)}: ${reply.text.slice(0, 300)}`).toBeLessThan(500);
  }
});

const PATHS = [
  "/v1/objects/%00",
  "/v1/objects/%",
  "/v1/objects/..%2F..%2Fetc",
  "/v1/objects/__proto__",
  "/v1/objects/constructor/decisions",
  "/v1/objects?limit=1e3",
  "/v1/objects?limit=99999999999999999999",
  "/v1/objects?cursor=",
  "/v1/objects?cursor=%FF",
  "/v1/objects?state=__proto__&policy=%00",
  "/v1/objects/w1/decisions?before=%00",
  "/v1/objects/w1/decisions?limit=1&limit=2",
  "/v1/decisions/__proto__",
  "/v1/decisions/%",
  "/v1/policies/__proto__",
  "/v1/policies/constructor",
  "/v1/policies/%E0%A4%A",
];

test.each(PATHS)("GET %s answers below 500", async (path) => {
  const reply = await h.call("GET", path);
  expect(reply.status, reply.text).toBeLessThan(500);
});
