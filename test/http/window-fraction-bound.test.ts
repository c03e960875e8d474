// A usage window's or a timeline's `from` and `to` took a fraction of a second of any length:
// `from=2000-01-01T00:00:00.` and 5,000 digits was a 200, though the server reads times to the
// millisecond. Past 9 digits (nanoseconds, the finest any clock writes) it is now a 422 naming
// the parameter, on each of the three routes that take a window.

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
const MESSAGE = "must give a fraction of a second in at most 9 digits";
const at = (digits: number) => `2000-01-01T00:00:00.${"1".repeat(digits)}Z`;

test.each([
  ["5,000 digits", 5000],
  ["10 digits", 10],
])("a `from` or `to` with %s of a second is a 422 naming it", async (_label, digits) => {
  for (const route of ROUTES)
    for (const key of ["from", "to"]) {
      const reply = await get(`${route}?${key}=${at(digits)}`);
      expect(reply.status, `${route}?${key}: ${reply.text.slice(0, 300)}`).toBe(422);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(reply.text).errors).toEqual([{ path: `$.query.${key}`, message: MESSAGE }]);
    }
});

test("9 digits, 3, and none are taken", async () => {
  const to = new Date(served.services.governor.clock.now()).toISOString();
  for (const route of ROUTES)
    for (const fraction of [".123456789", ".123", ""]) {
      const reply = await get(`${route}?from=2000-01-01T00:00:00${fraction}Z&to=${to}`);
      expect(reply.status, `${route} ${fraction}: ${reply.text.slice(0, 300)}`).toBe(200);
    }
});
