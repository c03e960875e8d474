// A query parameter given twice is refused (422 naming it), on every route that reads a query:
// read as its first value, `?state=active&state=dormant` listed the active objects alone and
// `?limit=5&limit=abc` passed. An empty value still counts as absent.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup();
  await h.services.governor.putObject("w", { policy: "queue-worker" });
});
afterAll(() => h.close());

describe("a query parameter given twice", () => {
  test.each([
    ["/v1/objects?state=active&state=dormant", "state"],
    ["/v1/objects?limit=5&limit=abc", "limit"],
    ["/v1/objects/w/decisions?limit=1&limit=2", "limit"],
    ["/v1/usage?policy=a&policy=b", "policy"],
    ["/v1/objects/w/usage?from=2026-03-01T00:00:00Z&from=2026-03-02T00:00:00Z", "from"],
    ["/v1/events?types=decision&types=action", "types"],
  ])("%s is a 422 naming $.query.%s", async (path, key) => {
    const res = await h.call("GET", path);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: `$.query.${key}`, message: "given 2 times; give it once" }]);
  });

  test("an empty value beside a given one counts as absent", async () => {
    const res = await h.call("GET", "/v1/objects?state=&state=dormant");
    expect(res.status).toBe(200);
    expect(res.body.items.map((o: { id: string }) => o.id)).toEqual(["w"]);
  });
});
