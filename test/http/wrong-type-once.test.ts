// A value of the wrong type is told once: zod runs a string's length checks on any value with a
// length, so `[]` where a non-empty string belongs was refused twice at the same path, "expected
// a string, got an array" and "must hold at least 1 item" (or "must not be empty"), the second
// contradicting the first. Real HTTP, both doors (the fast path answers PUT).

import { afterAll, beforeAll, expect, test } from "vitest";
import { zodProblems } from "../../src/contracts/problems.ts";
import { processConfigFields } from "../../src/substrate/process/config.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 1 << 20);
});
afterAll(() => served.close());

async function send(method: string, path: string, contentType: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${served.port}${path}`, {
    method,
    headers: { "content-type": contentType },
    body: JSON.stringify(body),
  });
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return { status: res.status, body: (await res.json()) as { errors: unknown[] } };
}

test.each([
  ["PUT", "/v1/objects/w2", { policy: [] }, "$.policy", "expected a string, got an array"],
  [
    "PUT",
    "/v1/objects/w2",
    { policy: "queue-worker", substrate: { driver: [] } },
    "$.substrate.driver",
    "expected a string, got an array",
  ],
])("%s %s with an empty array for a string: one problem", async (method, path, body, at, message) => {
  const res = await send(method, path, "application/json", body);
  expect(res.status).toBe(422);
  expect(res.body.errors).toEqual([{ path: at, message }]);
});

test("a CloudEvent whose id is an empty array: one problem", async () => {
  const event = { specversion: "1.0", id: [], source: "s", type: "t", subject: "w1", data: {} };
  const res = await send("POST", "/v1/cloudevents", "application/cloudevents+json", event);
  expect(res.status).toBe(422);
  expect(res.body.errors).toEqual([{ path: "$.id", message: "expected a string" }]);
});

test("the process driver's command as an empty array: one problem", () => {
  const r = processConfigFields.safeParse({ command: [] });
  expect(r.success).toBe(false);
  expect(zodProblems(r.error!)).toEqual([{ path: "$.command", message: "expected a string, got an array" }]);
});

test("a string too short is still told so, and the wrong type beside another field's problem", () => {
  const r = processConfigFields.safeParse({ command: "", cwd: [] });
  expect(zodProblems(r.error!)).toEqual([
    { path: "$.command", message: "must not be empty" },
    { path: "$.cwd", message: "expected a string, got an array" },
  ]);
});
