// `Prefer: return=minimal` read as RFC 7240 has it: a preference given more than once counts at
// its first instance only (section 2), and a comma inside a quoted-string is part of a value, not
// the start of another preference. Found in a review: any `return=minimal` anywhere in the header
// was honoured, so `return=representation, return=minimal` (two Prefer lines joined, the first
// the client's own) and `foo="a,return=minimal"` got the minimal reply. Real HTTP, through the
// fast path and through hono alone, and on POST /v1/cloudevents, which answers the same way.

import { afterEach, describe, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** Whether each header got the minimal reply: the preference applied, and no `object`. */
async function minimal(port: number, path: string, contentType: string, body: (n: number) => unknown, prefer: string) {
  const r = await rawRequest(port, {
    method: "POST",
    path,
    headers: { "content-type": contentType, prefer },
    body: JSON.stringify(body(prefer.length)),
  });
  expect(r.status).toBe(200);
  const reply = JSON.parse(r.text);
  const applied = r.headers["preference-applied"] === "return=minimal";
  expect("object" in reply).toBe(!applied);
  return applied;
}

const CASES: [string, boolean][] = [
  ["return=minimal", true],
  ["return=minimal, return=representation", true],
  ['handling=lenient, return = "minimal"; x="a,b"', true],
  ["return=representation, return=minimal", false],
  ['foo="a,return=minimal"', false],
  ['foo="a\\",return=minimal"', false],
  ["wait=10;return=minimal", false],
];

describe.each([
  ["the fast path", true],
  ["hono alone", false],
])("POST /v1/objects/{id}/facts through %s", (_, fastPath) => {
  test("only the first return preference counts, and none inside a quoted-string", async () => {
    const served = await servedDoors([], 1 << 20, fastPath);
    close = served.close;
    const got: [string, boolean][] = [];
    for (const [prefer] of CASES)
      got.push([
        prefer,
        await minimal(served.port, "/v1/objects/w1/facts", "application/json", (n) => ({ facts: { n } }), prefer),
      ]);
    expect(got).toEqual(CASES);
  });
});

test("POST /v1/cloudevents reads Prefer the same way", async () => {
  const served = await servedDoors([], 1 << 20);
  close = served.close;
  const got: [string, boolean][] = [];
  let id = 0;
  const event = (n: number) => ({
    specversion: "1.0",
    id: `e${++id}`,
    source: "/test",
    type: "t",
    subject: "w1",
    data: { n },
  });
  for (const [prefer] of CASES)
    got.push([prefer, await minimal(served.port, "/v1/cloudevents", "application/cloudevents+json", event, prefer)]);
  expect(got).toEqual(CASES);
});
