// `?types=` on GET /v1/events, a list of event types, took a type any number of times:
// `decision` 1,500 times over (13 KiB) opened a stream as a 200, a length no list of three types
// needs. Each type is now named at most once, so the list is 32 characters at most; anything
// else is a 422 at $.query.types.

import http from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 4096);
});
afterAll(() => served.close());

/** GET /v1/events: the status and a problem's body; a stream that opens is cut at its headers. */
function open(query: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: served.port, path: `/v1/events${query}` }, (res) => {
      const status = res.statusCode ?? 0;
      if (res.headers["content-type"] === "text/event-stream") {
        res.destroy();
        resolve({ status, text: "" });
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status, text }));
    });
    req.on("error", reject);
  });
}

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
