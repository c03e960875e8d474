// `?types=` on GET /v1/events, a list of event types, took a type any number of times:
// `decision` 1,500 times over (13 KiB) opened a stream as a 200, a length no list of three types
// needs. Each type is now named at most once, so the list is 32 characters at most; anything
// else is a 422 at $.query.types.

import { afterAll, beforeAll, expect, test } from "vitest";
import { openEvents, servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

const open = (query: string) => openEvents(served.port, query);

const MESSAGE = "a comma-separated list of: decision, action, deletion, each at most once";

test.each([
  ["1,500 times one type", Array(1500).fill("decision").join(",")],
  ["a type twice", "decision,action,decision"],
  ["a type that is none", "decision,nope"],
  ["a type twice, and one that is none", "decision,decision,nope"],
])("?types= with %s is a 422 at $.query.types", async (_label, types) => {
  const reply = await open(`?types=${types}`);
  expect(reply.status, reply.text.slice(0, 300)).toBe(422);
  expect(JSON.parse(reply.text).errors).toEqual([{ path: "$.query.types", message: MESSAGE }]);
});

test.each(["decision", "deletion,action", "decision,action,deletion"])("?types=%s opens a stream", async (types) => {
  expect((await open(`?types=${types}`)).status).toBe(200);
});
