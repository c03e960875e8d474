// GET /readyz: 503 while recovery is not done (saying so), 503 when the database does not
// answer within READY_TIMEOUT_MS, instead of a request left open for good (the probes that use it
// give up after 5 s: the Dockerfile's HEALTHCHECK, fly.toml), and 503 while the database
// refuses writes (a full disk answers reads).

import { afterEach, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { Governor, READY_TIMEOUT_MS } from "../../src/governor/governor.ts";
import { LEASE_RENEW_MS } from "../../src/governor/lease.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log.ts";
import { startServer } from "../../src/main.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { WriteError } from "../../src/storage/sql-writer.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  vi.restoreAllMocks();
});

const detail = async (res: Response) => ((await res.json()) as { detail: string }).detail;

test("a database that does not answer makes /readyz a 503 once READY_TIMEOUT_MS has passed", async () => {
  const s = await makeServices();
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  expect((await app.request("/readyz")).status).toBe(200);
  // The database stops answering (a remote libsql server behind a partition, a stalled disk).
  const store = s.store as unknown as { getObject: (id: string) => Promise<unknown> };
  const real = store.getObject.bind(store);
  store.getObject = (id: string) => (id === "\u0000readyz" ? new Promise(() => {}) : real(id));
  let res: Response | null = null;
  const probe = Promise.resolve(app.request("/readyz")).then((r) => (res = r));
  await s.advance(READY_TIMEOUT_MS - 1);
  expect(res).toBeNull();
  await s.advance(1);
  await probe;
  expect(res!.status).toBe(503);
  expect(await detail(res!)).toBe(`not ready: the database did not answer within ${READY_TIMEOUT_MS} ms`);
  // A read that fails at once says so.
  store.getObject = (id: string) => (id === "\u0000readyz" ? Promise.reject(new Error("gone")) : real(id));
  const failed = await app.request("/readyz");
  expect({ status: failed.status, detail: await detail(failed) }).toEqual({
    status: 503,
    detail: "not ready: the database does not answer",
  });
});

test("before recovery is done /readyz says so, not that the database does not answer", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  await store.migrate();
  const governor = new Governor({ store, policies, drivers: [new SimulatedDriver({ clock })], clock });
  const app = createApp({ governor, policies, whatIf: new WhatIf(store, (id) => governor.getObject(id)), tokens: [] });
  const res = await app.request("/readyz");
  expect({ status: res.status, detail: await detail(res) }).toEqual({
    status: 503,
    detail: "not ready: recovery is not done",
  });
});

/** What the writer thread throws for each write once the disk is full. */
const full = () => Promise.reject(new WriteError("database or disk is full", "SQLITE_FULL"));

test("a database that refuses writes makes /readyz a 503 until a write goes through: a request's, or the lease's renewal", async () => {
  const identity = { owner: "a", host: "host-a", pid: 100, alive: () => true };
  const s = await makeServices({ lease: { identity, onLost: () => {} } });
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  await s.governor.putObject("w1", { policy: "queue-worker" });
  const facts = () =>
    app.request("/v1/objects/w1/facts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ facts: { queue: { depth: 1 } } }),
    });
  // The disk fills: every write fails (the lease's claims too), while reads go on.
  const store = s.store as unknown as Record<"commit" | "claimLease", (...args: unknown[]) => Promise<unknown>>;
  const real = { commit: store.commit.bind(store), claimLease: store.claimLease.bind(store) };
  store.commit = full;
  store.claimLease = full;
  expect((await facts()).status).toBe(503);
  const res = await app.request("/readyz");
  expect({ status: res.status, detail: await detail(res) }).toEqual({
    status: 503,
    detail: `not ready: the database refuses writes (SQLITE_FULL since ${new Date(START).toISOString()}; a full disk, a file made read-only, another program holding its lock): nothing can be committed`,
  });
  // Space is freed: with no request coming (a load balancer stopped sending), the lease's next
  // renewal goes through, and the server is ready again.
  store.commit = real.commit;
  store.claimLease = real.claimLease;
  expect((await app.request("/readyz")).status).toBe(503);
  await s.advance(LEASE_RENEW_MS);
  expect((await app.request("/readyz")).status).toBe(200);
  // A refused commit, then one that goes through.
  store.commit = full;
  expect((await facts()).status).toBe(503);
  expect((await app.request("/readyz")).status).toBe(503);
  store.commit = real.commit;
  expect((await facts()).status).toBe(200);
  expect((await app.request("/readyz")).status).toBe(200);
});

// A probe's access line is at debug, so at the default level a load balancer dropping the
// server left no line at all, nor the reason /readyz gave it: the server says so when it changes.
test("the real server logs each change of readiness, once, with the reason", async () => {
  const lines: { level: string; msg: string; reason?: string }[] = [];
  const log = createLogger("info", (line) => lines.push(JSON.parse(line)));
  const config = loadConfig({
    VIGIL_DB_URL: ":memory:",
    VIGIL_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
  });
  const server = await startServer(config, log);
  try {
    const probe = async () => (await fetch(`${server.url}/readyz`)).status;
    expect(await probe()).toBe(200);
    // The database stops answering the probe's read.
    const real = LibsqlStore.prototype.getObject;
    const read = vi.spyOn(LibsqlStore.prototype, "getObject");
    read.mockImplementation(function (this: LibsqlStore, id: string) {
      return id === "\u0000readyz" ? Promise.reject(new Error("gone")) : real.call(this, id);
    });
    expect([await probe(), await probe()]).toEqual([503, 503]);
    read.mockRestore();
    expect([await probe(), await probe()]).toEqual([200, 200]);
  } finally {
    await server.close();
  }
  const told = lines.filter((l) => l.msg === "not ready" || l.msg === "ready again");
  expect(told.map(({ level, msg, reason }) => ({ level, msg, reason }))).toEqual([
    { level: "warn", msg: "not ready", reason: "the database does not answer" },
    { level: "info", msg: "ready again", reason: undefined },
  ]);
});

test("probes that come while the database is being read share that read: a flood of /readyz is not a flood of reads", async () => {
  const s = await makeServices();
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  const store = s.store as unknown as { getObject: (id: string) => Promise<unknown> };
  const real = store.getObject.bind(store);
  // The database stalls: every probe's read is counted, and none is answered.
  let reads = 0;
  store.getObject = (id: string) => (id === "\u0000readyz" ? (reads++, new Promise(() => {})) : real(id));
  const probes = Array.from({ length: 50 }, () => Promise.resolve(app.request("/readyz")));
  await s.advance(READY_TIMEOUT_MS - 1);
  // One more, later, within the first read's READY_TIMEOUT_MS.
  probes.push(Promise.resolve(app.request("/readyz")));
  await s.advance(1);
  expect(reads).toBe(1);
  await s.advance(READY_TIMEOUT_MS);
  const replies = await Promise.all(probes);
  expect(new Set(replies.map((r) => r.status))).toEqual(new Set([503]));
  // A read older than READY_TIMEOUT_MS is not waited for again: the next probe reads anew, and
  // the database answering again makes it ready.
  store.getObject = (id: string) => (reads++, real(id));
  expect((await app.request("/readyz")).status).toBe(200);
  expect(reads).toBe(2);
});

test("scrapes that come while the timers are being counted share that count", async () => {
  const s = await makeServices();
  open.push(s);
  const store = s.store as unknown as { countTimers: () => Promise<number> };
  let counts = 0;
  store.countTimers = () => (counts++, new Promise(() => {}));
  const scrapes = Array.from({ length: 20 }, () => s.governor.pendingTimers());
  await s.advance(READY_TIMEOUT_MS);
  expect(await Promise.all(scrapes)).toEqual(Array.from({ length: 20 }, () => null));
  expect(counts).toBe(1);
});
