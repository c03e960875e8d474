// A remote libsql server (the fake Hrana server, helpers/hrana-fake.ts) that answers 503 while
// the server runs: each request that needs it is a 503 with `Retry-After`, logged as an error,
// whose detail does not claim that nothing changed (a remote write whose answer was lost may
// have been committed) but asks for the same request again, so that it is applied once. Before,
// each was a plain 500 (only SQLite's codes were known to pass).

import { expect, test } from "vitest";
import { remoteVigil } from "../helpers/remote-vigil.ts";

const remote = remoteVigil("remote-down");

const send = (method: string, path: string, body?: unknown) =>
  fetch(`${remote.vigil.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** `request` made while the database answers 503: its reply, the database back afterwards. */
async function whileDown(request: () => Promise<Response>): Promise<{ reply: Response; text: string }> {
  remote.fake.mode = "unavailable";
  try {
    const reply = await request();
    return { reply, text: await reply.text() };
  } finally {
    remote.fake.mode = "ok";
  }
}

const unavailable = { type: "https://vigil.dev/problems/unavailable", status: 503 };

test.each([
  ["POST", "/v1/objects/w/facts", { facts: { queue: { depth: 3 } } }],
  ["PUT", "/v1/objects/w2", { policy: "queue-worker" }],
  ["GET", "/v1/objects?limit=5", undefined],
  ["POST", "/v1/facts", { items: [{ objectId: "w", facts: { queue: { depth: 4 } } }] }],
])(
  "%s %s while the remote database answers 503 is a 503 with Retry-After that asks for it again",
  async (method, path, body) => {
    if ((await send("GET", "/v1/objects/w")).status === 404)
      expect((await send("PUT", "/v1/objects/w", { policy: "queue-worker" })).status).toBe(201);
    const mark = remote.vigil.log().length;
    const { reply, text } = await whileDown(() => send(method, path, body));
    let problem: { detail: string };
    if (path === "/v1/facts") {
      // A batch answers for each item: this one's is the 503.
      expect(reply.status, text).toBe(200);
      problem = JSON.parse(text).results[0].error;
    } else {
      expect(reply.status, text).toBe(503);
      expect(reply.headers.get("retry-after")).toBe("5");
      problem = JSON.parse(text);
    }
    expect(problem).toMatchObject(unavailable);
    expect(problem.detail).toContain("the database could not be reached");
    expect(problem.detail).toContain("may or may not have been recorded");
    expect(problem.detail).toContain("the same Idempotency-Key");
    expect(problem.detail).not.toContain("nothing was changed");
    expect(text).not.toMatch(/SERVER_ERROR|127\.0\.0\.1/);
    // This request's own line says why: the database's answer, not only the query it failed.
    const line = remote.vigil
      .log()
      .slice(mark)
      .split("\n")
      .find((l) => l.includes('"level":"error"'));
    expect(line).toMatch(/"error":"[^"]*SERVER_ERROR: Server returned HTTP status 503/);
  },
);

test("the line logged for a request the database failed names the failure, and not the query's parameters", async () => {
  // An object of its own: one whose last write failed is read again first, by another query.
  expect((await send("PUT", "/v1/objects/logged", { policy: "queue-worker" })).status).toBe(201);
  const mark = remote.vigil.log().length;
  const { reply } = await whileDown(() =>
    fetch(`${remote.vigil.url}/v1/objects/logged/facts`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "key-not-for-logs" },
      body: JSON.stringify({ facts: { note: "memory-not-for-logs" } }),
    }),
  );
  expect(reply.status).toBe(503);
  const lines = remote.vigil.log().slice(mark);
  expect(lines).toMatch(/"msg":"request failed"/);
  expect(lines).toMatch(/SERVER_ERROR: Server returned HTTP status 503/);
  expect(lines).not.toMatch(/key-not-for-logs|memory-not-for-logs/);
});

test("a DELETE whose compute was stopped before the remote database failed says so, and that it may not be recorded", async () => {
  const substrate = { driver: "simulated", config: {} };
  expect((await send("PUT", "/v1/objects/s", { policy: "queue-worker", substrate })).status).toBe(201);
  expect((await send("POST", "/v1/objects/s/facts", { facts: { queue: { depth: 3 } } })).status).toBe(200);
  await expect
    .poll(async () => ((await (await send("GET", "/v1/objects/s")).json()) as { state: string }).state)
    .toBe("active");
  const { reply, text } = await whileDown(() => send("DELETE", "/v1/objects/s"));
  expect(reply.status, text).toBe(503);
  expect(reply.headers.get("retry-after")).toBe("5");
  const detail = (JSON.parse(text) as { detail: string }).detail;
  expect(detail).toContain('the compute of "s" was stopped');
  expect(detail).toContain("may or may not have been recorded");
  expect(detail).not.toContain("nothing was changed");
  // Tried again, the deletion completes.
  expect((await send("DELETE", "/v1/objects/s")).status).toBe(204);
});
