// A `+` in a query string is a space (application/x-www-form-urlencoded), so a window's `from`
// or `to` written with a `+01:00` offset, as curl sends it unescaped, arrived as
// `2026-03-01T09:30:00 01:00` and was told "must be an ISO 8601 date and time with a zone",
// though the client gave one: the reply did not say what went wrong. Now such a value (a space
// where an offset's sign goes) is a 422 at the parameter that says to write the `+` as `%2B`,
// on each of the three routes that take a window; `%2B01:00` is taken.

import { afterAll, beforeAll, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

const get = (path: string) => rawRequest(served.port, { method: "GET", path });
const ROUTES = ["/v1/objects/w1/usage", "/v1/usage", "/ui/objects/w1/timeline.svg"];
const message = (offset: string) =>
  `must be an ISO 8601 date and time with a zone; a space stands where its offset's sign goes: in a query string "+" is read as a space, so write the offset "+${offset}" as "%2B${offset}"`;

test.each([
  ["seconds", "2000-01-01T09:30:00+01:00", "01:00"],
  ["a fraction of a second", "2000-01-01T09:30:00.250+14:00", "14:00"],
])(
  "a `from` or `to` with a + offset and %s sent unescaped is a 422 that says to escape the +",
  async (_l, time, offset) => {
    for (const route of ROUTES)
      for (const key of ["from", "to"]) {
        const reply = await get(`${route}?${key}=${time}`);
        expect(reply.status, `${route}?${key}: ${reply.text.slice(0, 300)}`).toBe(422);
        expect(reply.headers["content-type"]).toBe("application/problem+json");
        expect(JSON.parse(reply.text).errors).toEqual([{ path: `$.query.${key}`, message: message(offset) }]);
      }
  },
);

test("the same time written with %2B is taken, and other bad times keep their message", async () => {
  const to = new Date(served.services.governor.clock.now()).toISOString();
  for (const route of ROUTES) {
    const taken = await get(`${route}?from=2000-01-01T09:30:00%2B01:00&to=${to}`);
    expect(taken.status, `${route}: ${taken.text.slice(0, 300)}`).toBe(200);
    const other = await get(`${route}?from=2000-01-01 09:30:00Z`.replace(" ", "%20"));
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text).errors).toEqual([
      { path: "$.query.from", message: "must be an ISO 8601 date and time with a zone, e.g. 2026-03-01T08:00:00Z" },
    ]);
  }
});
