// GET /readyz: 503 while recovery is not done (saying so), 503 when the database does not
// answer within READY_TIMEOUT_MS, instead of a request left open for good (the probes that use it
// give up after 5 s: the Dockerfile's HEALTHCHECK, fly.toml), and 503 while the database
// refuses writes (a full disk answers reads).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import type { LeaseHolder } from "../../src/core/store.ts";
import { Governor, READY_TIMEOUT_MS } from "../../src/governor/governor.ts";
import { LEASE_RENEW_MS } from "../../src/governor/lease.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { createApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log.ts";
import { startServer } from "../../src/main.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { WriteError, type SqlWriter } from "../../src/storage/sql-writer.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  vi.restoreAllMocks();
});

const dir = mkdtempSync(join(tmpdir(), "vigil-readyz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

test("a database that refuses writes makes /readyz a 503 until a commit goes through: a request's, or the probe's own write", async () => {
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
  // The disk fills: every write fails (the lease's claims and the probe's too), while reads go on.
  type Writes = Record<"commit" | "claimLease" | "probeWrite", (...args: unknown[]) => Promise<unknown>>;
  const store = s.store as unknown as Writes;
  const real: Writes = {
    commit: store.commit.bind(store),
    claimLease: store.claimLease.bind(store),
    probeWrite: store.probeWrite.bind(store),
  };
  const fill = () => Object.assign(store, { commit: full, claimLease: full, probeWrite: full });
  fill();
  expect((await facts()).status).toBe(503);
  const res = await app.request("/readyz");
  expect({ status: res.status, detail: await detail(res) }).toEqual({
    status: 503,
    detail: `not ready: the database refuses writes (SQLITE_FULL since ${new Date(START).toISOString()}; a full disk, a file made read-only or removed, another program holding its lock): nothing can be committed`,
  });
  await s.advance(LEASE_RENEW_MS);
  expect((await app.request("/readyz")).status).toBe(503);
  // Space is freed: with no request coming (a load balancer stopped sending), the next probe's
  // write goes through, and the server is ready again.
  Object.assign(store, real);
  expect((await app.request("/readyz")).status).toBe(200);
  // A refused commit, then one that goes through (the probe's write still refused).
  fill();
  expect((await facts()).status).toBe(503);
  expect((await app.request("/readyz")).status).toBe(503);
  store.commit = real.commit;
  expect((await facts()).status).toBe(200);
  expect((await app.request("/readyz")).status).toBe(200);
});

test("probes while the database refuses writes send one write probe at a time: a write stuck behind a lock is not joined by more", async () => {
  const s = await makeServices();
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  await s.governor.putObject("w1", { policy: "queue-worker" });
  const store = s.store as unknown as Record<"commit" | "probeWrite", (...args: unknown[]) => Promise<unknown>>;
  const commit = store.commit.bind(store);
  store.commit = () => Promise.reject(new WriteError("database is locked", "SQLITE_BUSY"));
  await expect(s.governor.postFacts("w1", { queue: { depth: 1 } })).rejects.toThrow("database is locked");
  // The probe's write waits for the lock, and does not answer.
  let probes = 0;
  store.probeWrite = () => (probes++, new Promise(() => {}));
  const replies = Array.from({ length: 20 }, () => Promise.resolve(app.request("/readyz")));
  await s.advance(READY_TIMEOUT_MS);
  replies.push(Promise.resolve(app.request("/readyz")));
  await s.advance(READY_TIMEOUT_MS);
  expect(new Set((await Promise.all(replies)).map((r) => r.status))).toEqual(new Set([503]));
  expect(probes).toBe(1);
  // The lock ends: a commit goes through, and the server is ready without another probe.
  store.commit = commit;
  await s.governor.postFacts("w1", { queue: { depth: 2 } });
  expect((await app.request("/readyz")).status).toBe(200);
  expect(probes).toBe(1);
});

// A full disk refuses every commit (each takes new pages) while an update in place, as the
// lease's renewal is, still goes through: readiness cleared by any write that went through
// turned back to ready at each renewal, every 4 s, and a load balancer flapped.
test("on a full disk /readyz stays a 503 while the lease's renewals go through, and is ready again once space returns, with no request", async () => {
  const identity = { owner: "a", host: "host-a", pid: 100, alive: () => true };
  const store = new LibsqlStore({ url: `file:${join(dir, "full.db")}` });
  const s = await makeServices({ store, lease: { identity, onLost: () => {} } });
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  await s.governor.putObject("w1", { policy: "queue-worker" });
  const facts = () =>
    app.request("/v1/objects/w1/facts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ facts: { note: "x".repeat(50_000) } }),
    });
  // The disk fills: the file may not grow past the pages it has (SQLITE_FULL), on the
  // connection every write goes through.
  const writer = (store as unknown as { writer: SqlWriter }).writer;
  await writer.write(["PRAGMA max_page_count = 1"]);
  expect((await facts()).status).toBe(503);
  // Each renewal of the lease, to see it go through.
  const renewals: Promise<LeaseHolder | null>[] = [];
  const claim = store.claimLease.bind(store);
  store.claimLease = (...args) => {
    const renewal = claim(...args);
    renewals.push(renewal);
    return renewal;
  };
  for (let renewal = 1; renewal <= 3; renewal++) {
    await s.advance(LEASE_RENEW_MS);
    expect((await renewals[renewal - 1])?.renewedAt).toBe(START + renewal * LEASE_RENEW_MS);
    const res = await app.request("/readyz");
    expect({ status: res.status, detail: await detail(res) }).toEqual({
      status: 503,
      detail: `not ready: the database refuses writes (SQLITE_FULL since ${new Date(START).toISOString()}; a full disk, a file made read-only or removed, another program holding its lock): nothing can be committed`,
    });
  }
  expect((await facts()).status).toBe(503);
  // Space is freed: the next probe finds a commit's worth of writing goes through, with no request.
  await writer.write(["PRAGMA max_page_count = 1073741823"]);
  expect((await app.request("/readyz")).status).toBe(200);
  expect((await facts()).status).toBe(200);
  expect((await app.request("/readyz")).status).toBe(200);
  // The probes' writes left nothing behind.
  expect((await store.client.execute("SELECT name FROM lease")).rows.map((r) => r.name)).toEqual(["governor"]);
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
