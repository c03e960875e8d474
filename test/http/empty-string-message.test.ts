// A string that must not be empty, sent empty (`{"policy":""}`, a substrate's `driver: ""`), is
// told so in plain words on both doors, not "must be at least 1 characters long"; nothing is made.

import { afterEach, describe, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const headers = { "content-type": "application/json", authorization: `Bearer ${TOKENS.admin}` };

describe("an empty string where one is required", () => {
  test.each([
    ["the fast path", true],
    ["hono", false],
  ])("on %s: a 422 that says it must not be empty, and no object made", async (_door, fastPath) => {
    const served = await servedDoors(TOKEN_CONFIG, 4096, fastPath);
    close = served.close;
    for (const [body, path] of [
      [{ policy: "" }, "$.policy"],
      [{ policy: "queue-worker", substrate: { driver: "" } }, "$.substrate.driver"],
    ] as const) {
      const reply = await rawRequest(served.port, {
        method: "PUT",
        path: "/v1/objects/w2",
        headers,
        body: JSON.stringify(body),
      });
      expect(reply.status, reply.text).toBe(422);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(reply.text).errors).toContainEqual({ path, message: "must not be empty" });
    }
    const got = await rawRequest(served.port, { method: "GET", path: "/v1/objects/w2", headers });
    expect(got.status).toBe(404);
  });
});
