// A remote libsql server that answers 200 with a body that is not JSON while the server runs (a
// proxy's or a load balancer's page in front of it): each request that needs the database is a
// 503 with `Retry-After` that says the database failed, and /readyz says why it is not ready.
// Before, each was a plain 500 ("the server could not complete the request"), and /readyz said
// that the database does not answer: only a failure to reach the database, or an HTTP error, was
// known to be the database's.

import { expect, test } from "vitest";
import { remoteVigil } from "../helpers/remote-vigil.ts";

const remote = remoteVigil("remote-not-json");

const send = (method: string, path: string, body?: unknown) =>
  fetch(`${remote.vigil.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** `request` made while the database answers pages, not JSON: its reply, the database back afterwards. */
async function whilePages(request: () => Promise<Response>): Promise<{ reply: Response; text: string }> {
  remote.fake.mode = "not-json";
  try {
    const reply = await request();
    return { reply, text: await reply.text() };
  } finally {
    remote.fake.mode = "ok";
  }
}

test.each([
  ["POST", "/v1/objects/w/facts", { facts: { queue: { depth: 3 } } }],
  ["PUT", "/v1/objects/w2", { policy: "queue-worker" }],
  ["GET", "/v1/objects?limit=5", undefined],
])("%s %s while the remote database answers 200 with a page is a 503 with Retry-After", async (method, path, body) => {
  if ((await send("GET", "/v1/objects/w")).status === 404)
    expect((await send("PUT", "/v1/objects/w", { policy: "queue-worker" })).status).toBe(201);
  const { reply, text } = await whilePages(() => send(method, path, body));
  expect(reply.status, text).toBe(503);
  expect(reply.headers.get("retry-after")).toBe("5");
  const problem = JSON.parse(text) as { type: string; detail: string };
  expect(problem.type).toBe("https://vigil.dev/problems/unavailable");
  expect(problem.detail).toContain("a reply that is not a libsql server's");
  expect(problem.detail).toContain("may or may not have been recorded");
  expect(text).not.toMatch(/VIGIL_DB_NOT_LIBSQL|127\.0\.0\.1|<html>/);
  // Back to normal, the object is served again.
  expect((await send("GET", "/v1/objects/w")).status).toBe(200);
});

test("/readyz while the remote database answers 200 with a page, or a 503, is a 503 that says which", async () => {
  const { reply, text } = await whilePages(() => send("GET", "/readyz"));
  expect(reply.status, text).toBe(503);
  expect((JSON.parse(text) as { detail: string }).detail).toBe(
    "not ready: the database answered with a reply that is not a libsql server's",
  );
  // It said "the database does not answer", as of one that had not answered at all.
  remote.fake.mode = "unavailable";
  try {
    const down = await send("GET", "/readyz");
    expect({ status: down.status, detail: ((await down.json()) as { detail: string }).detail }).toEqual({
      status: 503,
      detail: "not ready: the database answered HTTP 503",
    });
  } finally {
    remote.fake.mode = "ok";
  }
  expect((await send("GET", "/readyz")).status).toBe(200);
});

// A DELETE whose compute was stopped before its write met a page said the database "could not be
// reached", where it had answered (unreachableDetail says that it failed so).
test("a DELETE whose compute was stopped before the database answered its write with a page says the database failed", async () => {
  const substrate = { driver: "simulated", config: {} };
  expect((await send("PUT", "/v1/objects/s", { policy: "queue-worker", substrate })).status).toBe(201);
  const woke = await send("POST", "/v1/objects/s/facts", { facts: { queue: { depth: 3 } } });
  expect(woke.status, await woke.text()).toBe(200);
  await expect
    .poll(async () => ((await (await send("GET", "/v1/objects/s")).json()) as { state: string }).state)
    .toBe("active");
  const { reply, text } = await whilePages(() => send("DELETE", "/v1/objects/s"));
  expect(reply.status, text).toBe(503);
  expect(reply.headers.get("retry-after")).toBe("5");
  const detail = (JSON.parse(text) as { detail: string }).detail;
  expect(detail).toContain(
    `the compute of "s" was stopped, but the database failed to record the deletion: it answered with a reply that is not a libsql server's`,
  );
  expect(detail).toContain("may or may not have been recorded");
  expect(detail).not.toContain("could not be reached");
  expect(text).not.toMatch(/VIGIL_DB_NOT_LIBSQL|127\.0\.0\.1|<html>/);
  // Back to normal, the deletion completes.
  expect((await send("DELETE", "/v1/objects/s")).status).toBe(204);
}, 30_000);
