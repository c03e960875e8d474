// The picture's window at the start of the year 0000: a `to` there left the default `from` a
// second before it, in the year -1, and the picture (a 200) was drawn from -000001-12-31, where
// the usage endpoints answer the same `to` with a 422 (the window is empty). Over real HTTP.

import { afterAll, beforeAll, expect, test } from "vitest";
import { servedDoors } from "../http/harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 1024 * 1024);
});
afterAll(() => served.close());

const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${served.port}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
};

test("a `to` at the first instant of 0000 is an empty window, a 422 as the usage endpoint's", async () => {
  const picture = await get("/ui/objects/w1/timeline.svg?to=0000-01-01T00:00:00Z");
  expect(picture.status, picture.text).toBe(422);
  expect(picture.type).toBe("application/problem+json");
  expect(JSON.parse(picture.text).errors.map((e: { path: string }) => e.path)).toEqual(["$.query.from"]);
  const usage = await get("/v1/objects/w1/usage?to=0000-01-01T00:00:00Z");
  expect(usage.status, usage.text).toBe(422);
});

test("a `to` just after it draws the picture from 0000-01-01", async () => {
  const picture = await get("/ui/objects/w1/timeline.svg?to=0000-01-01T00:00:00.500Z");
  expect(picture.status, picture.text).toBe(200);
  expect(picture.text).toContain("from 0000-01-01T00:00:00.000Z to 0000-01-01T00:00:00.500Z");
  expect(picture.text).not.toContain("-000001");
});
