// `before`, the decisions listing's paging parameter (`nextBefore` of the previous page), is a
// decision id: one of any length past `dec_` and 13 characters was taken, so a value no server
// mints (5,000 characters of it) listed the first page as a 200, where the objects listing's
// `cursor` refuses what it did not issue. Past the 21 characters of a minted id it is a 422 too.

import { afterAll, beforeAll, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

const list = (query: string) => rawRequest(served.port, { method: "GET", path: `/v1/objects/w1/decisions?${query}` });

test.each([
  ["5,000 characters", `dec_${"a".repeat(5000)}`],
  ["one character past a minted id", `dec_${"0".repeat(22)}`],
])("?before= %s is a 422 naming $.query.before", async (_label, before) => {
  const reply = await list(`before=${before}`);
  expect(reply.status, reply.text.slice(0, 300)).toBe(422);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  const problem = JSON.parse(reply.text);
  expect(problem.errors.map((e: { path: string }) => e.path)).toEqual(["$.query.before"]);
  expect(reply.text.length).toBeLessThan(1000);
});

test("a minted id, and the id of a page's last decision, still page", async () => {
  await served.services.governor.postFacts("w1", { queue: { depth: 1 } });
  await served.services.governor.postFacts("w1", { queue: { depth: 0 } });
  const first = JSON.parse((await list("limit=1")).text);
  expect(first.nextBefore).toMatch(/^dec_[0-9a-z]{21}$/);
  const next = await list(`limit=1&before=${first.nextBefore}`);
  expect(next.status).toBe(200);
  expect(JSON.parse(next.text).items[0].id < first.nextBefore).toBe(true);
});
