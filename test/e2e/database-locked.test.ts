// A database another program holds locked (a `sqlite3` shell in a write transaction, a backup
// tool) past the writer's busy timeout: the server commits nothing and answers 503 with
// `Retry-After` (a batch, for the item), and the same request succeeds once the lock is let go.
// Before, each was a 500: a fault of the server's, not a moment to wait out.

import { createClient, type Client } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-locked-"));
const db = join(dir, "locked.db");
let vigil: VigilProcess;
let other: Client;
beforeAll(async () => {
  vigil = await startVigil({ VIGIL_DB_URL: `file:${db}` });
  other = createClient({ url: `file:${db}` });
  // The lock is taken while the server may be writing (a start confirmed): wait for it.
  await other.execute("PRAGMA busy_timeout = 5000");
});
afterAll(() => {
  if (process.env.VIGIL_SHOW_LOG) console.log(vigil?.log());
  other?.close();
  vigil?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const send = (method: string, path: string, body: unknown) =>
  fetch(`${vigil.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const memory = async (id: string) =>
  ((await (await fetch(`${vigil.url}/v1/objects/${id}`)).json()) as { memory: unknown }).memory;

test.each([
  ["POST", "/v1/objects/w/facts", { facts: { queue: { depth: 3 } } }],
  ["PUT", "/v1/objects/w2", { policy: "queue-worker" }],
  ["POST", "/v1/facts", { items: [{ objectId: "w", facts: { queue: { depth: 4 } } }] }],
])(
  "%s %s while another program holds the database locked is a 503 with Retry-After, and changes nothing",
  async (method, path, body) => {
    if ((await fetch(`${vigil.url}/v1/objects/w`)).status === 404)
      expect((await send("PUT", "/v1/objects/w", { policy: "queue-worker" })).status).toBe(201);
    // Held for one request at a time: the write waits out the writer's busy timeout (5 s), then is
    // refused. (Held much longer, the lease could not be renewed either, and the server would stop.)
    const lock = await other.transaction("write");
    let reply: Response;
    let text: string;
    try {
      await lock.execute("UPDATE lease SET expires_at = expires_at");
      reply = await send(method, path, body);
      text = await reply.text();
    } finally {
      await lock.rollback();
    }
    const unavailable = { type: "https://vigil.dev/problems/unavailable", status: 503 };
    if (path === "/v1/facts") {
      // A batch answers for each item: this one's is the 503.
      expect(reply.status, text).toBe(200);
      expect(JSON.parse(text).results[0].error).toMatchObject(unavailable);
    } else {
      expect(reply.status, text).toBe(503);
      expect(reply.headers.get("retry-after"), text).toBe("5");
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(JSON.parse(text)).toMatchObject(unavailable);
    }
    expect(text).not.toMatch(/SQLITE|locked\.db/);
    expect(await memory("w")).toEqual({});
    expect((await fetch(`${vigil.url}/v1/objects/w2`)).status).toBe(404);
    // The lock gone, the same request commits.
    expect((await send(method, path, body)).status).toBe(method === "PUT" ? 201 : 200);
    if (method === "PUT") expect((await send("DELETE", "/v1/objects/w2", undefined)).status).toBe(204);
    else expect(await memory("w")).not.toEqual({});
    expect((await send("DELETE", "/v1/objects/w", undefined)).status).toBe(204);
  },
  30_000,
);

test("a DELETE whose compute was stopped before the database refused the deletion says so, and the object keeps its record", async () => {
  const substrate = { driver: "simulated", config: {} };
  expect((await send("PUT", "/v1/objects/s", { policy: "queue-worker", substrate })).status).toBe(201);
  const woke = await send("POST", "/v1/objects/s/facts", { facts: { queue: { depth: 3 } } });
  expect(woke.status, await woke.text()).toBe(200);
  // Its start confirmed and recorded first: a write queued before the DELETE would hold the lock
  // longer (each waits out the busy timeout), and past the lease's 15 s the server stops.
  await expect
    .poll(async () => ((await (await fetch(`${vigil.url}/v1/objects/s`)).json()) as { state: string }).state)
    .toBe("active");
  const lock = await other.transaction("write");
  let reply: Response;
  let text: string;
  try {
    await lock.execute("UPDATE lease SET expires_at = expires_at");
    reply = await fetch(`${vigil.url}/v1/objects/s`, { method: "DELETE" });
    text = await reply.text();
  } finally {
    await lock.rollback();
  }
  expect(reply.status, text).toBe(503);
  expect(reply.headers.get("retry-after")).toBe("5");
  const detail = (JSON.parse(text) as { detail: string }).detail;
  expect(detail).toContain('the compute of "s" was stopped');
  expect(detail).toContain("the object keeps its record");
  expect(detail).not.toContain("nothing was changed");
  expect((await fetch(`${vigil.url}/v1/objects/s`)).status).toBe(200);
  // Tried again, the deletion completes.
  expect((await fetch(`${vigil.url}/v1/objects/s`, { method: "DELETE" })).status).toBe(204);
}, 30_000);

test("a DELETE of an object with no compute to stop, refused by the database, says that nothing changed", async () => {
  expect(
    (await send("PUT", "/v1/objects/d", { policy: "on-demand", substrate: { driver: "simulated", config: {} } }))
      .status,
  ).toBe(201);
  const lock = await other.transaction("write");
  let text: string;
  try {
    await lock.execute("UPDATE lease SET expires_at = expires_at");
    const reply = await fetch(`${vigil.url}/v1/objects/d`, { method: "DELETE" });
    expect(reply.status).toBe(503);
    text = await reply.text();
  } finally {
    await lock.rollback();
  }
  expect(text).not.toContain("was stopped");
  expect(text).toContain("nothing was changed");
  expect((await fetch(`${vigil.url}/v1/objects/d`, { method: "DELETE" })).status).toBe(204);
}, 30_000);
