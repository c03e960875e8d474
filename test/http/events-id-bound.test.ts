// The event id a stream resumes from (the Last-Event-ID header, or `?lastEventId=`) took any
// length past `dec_`/`act_` and 13 characters up to 128, so one no server mints (22 to 124
// characters) opened a stream as a 200, where the decisions listing's `before` refuses past the
// 21 characters of a minted id. Both now take the same bound, and say it in the same words.

import { afterAll, beforeAll, expect, test } from "vitest";
import { openEvents, servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

const open = (query: string, headers: Record<string, string> = {}) => openEvents(served.port, query, headers);

const MESSAGE =
  "must be the id of an event this server sent (dec_ or act_ followed by 13 to 21 lowercase letters and digits)";

test.each([
  ["5,000 characters", `dec_${"a".repeat(5000)}`],
  ["one character past a minted decision id", `dec_${"0".repeat(22)}`],
  ["one character past a minted action id", `act_${"0".repeat(22)}`],
  ["124 characters past the prefix", `dec_${"z".repeat(124)}`],
])("an event id of %s is a 422, as the header and as ?lastEventId=", async (_label, id) => {
  const byHeader = await open("", { "last-event-id": id });
  expect(byHeader.status, byHeader.text.slice(0, 300)).toBe(422);
  expect(JSON.parse(byHeader.text).errors).toEqual([{ path: "$.headers.Last-Event-ID", message: MESSAGE }]);
  const byQuery = await open(`?lastEventId=${id}`);
  expect(byQuery.status, byQuery.text.slice(0, 300)).toBe(422);
  expect(JSON.parse(byQuery.text).errors).toEqual([{ path: "$.query.lastEventId", message: MESSAGE }]);
});

test("a minted id, and the 13-character id a stream opens with before any decision, still resume", async () => {
  const { decision } = await served.services.governor.postFacts("w1", { queue: { depth: 1 } });
  expect(decision.id).toMatch(/^dec_[0-9a-z]{21}$/);
  for (const id of [decision.id, "dec_0000000000000"]) {
    expect((await open("", { "last-event-id": id })).status).toBe(200);
    expect((await open(`?lastEventId=${id}`)).status).toBe(200);
  }
});
