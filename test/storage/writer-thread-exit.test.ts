// The writer thread of a file database dying (an uncaught error in it, a worker ended): every
// write fails from then on. It failed with a plain Error that counted as no refusal of the
// database, so writes were 500s and /readyz stayed ready until the lease ran out 15 s on. Now
// /readyz is a 503 at once, with no write needed, and writes are 503s that say why, on both doors.

import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import type { SqlWriter } from "../../src/storage/sql-writer.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

test("a writer thread that died makes /readyz a 503 at once, and writes 503s saying so, on both doors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-writer-exit-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new LibsqlStore({ url: `file:${join(dir, "vigil.db")}` });
  const s: TestServices = await makeServices({ store });
  cleanup.push(() => s.close());
  const reported: unknown[] = [];
  const report = (e: unknown) => reported.push(e);
  const app = createApp({
    governor: s.governor,
    policies: s.policies,
    whatIf: s.whatIf,
    tokens: [],
    onInternalError: report,
  });
  const hono = honoListener(app, report, true);
  const fast = factsFastPath({
    governor: s.governor,
    tokens: [],
    bodyLimitBytes: 1 << 20,
    report,
    policies: s.policies,
  });
  let fastAnswered = 0;
  const lean = await listen(
    httpServer((req, res) => {
      if (fast(req, res)) fastAnswered++;
      else void hono(req, res);
    }),
  );
  const honoOnly = await listen(httpServer((req, res) => void hono(req, res)));
  const facts = (port: number, depth: number) =>
    rawRequest(port, {
      method: "POST",
      path: "/v1/objects/w1/facts",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ facts: { queue: { depth } } }),
    });
  await s.governor.putObject("w1", { policy: "queue-worker" });
  expect((await facts(lean, 1)).status).toBe(200);
  expect((await rawRequest(lean, { method: "GET", path: "/readyz" })).status).toBe(200);

  // The writer thread ends (as an uncaught error in it would end it).
  const thread = (store as unknown as { writer: SqlWriter & { thread: Worker } }).writer.thread;
  await thread.terminate();

  // No write has failed yet: /readyz says so at once.
  const ready = await rawRequest(lean, { method: "GET", path: "/readyz" });
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.text).detail).toMatch(/writer thread/);

  const before = fastAnswered;
  for (const port of [lean, honoOnly]) {
    const reply = await facts(port, 2);
    expect(reply.status, reply.text).toBe(503);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(reply.headers["retry-after"]).toBeDefined();
    const { detail } = JSON.parse(reply.text);
    expect(detail).toMatch(/writer thread stopped/);
    // A write on its way when it stopped may have been committed: no "nothing was changed".
    expect(detail).toMatch(/may or may not have been recorded/);
  }
  expect(fastAnswered - before).toBe(1);
  // Nothing was recorded: the object is as the last write that went through left it.
  expect((await s.governor.getObject("w1"))?.memory).toMatchObject({ queue: { depth: 1 } });
});
