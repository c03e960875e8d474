// One server, 1,000,000 registered objects: what it costs in memory, disk and start-up, and how
// fast new objects are created over HTTP. The objects are registered directly through the store,
// not over HTTP (core `decide` for each, as PUT decides a new object, then `LibsqlStore.commit`
// of the same rows PUT commits, 2,000 objects a transaction): over HTTP that alone would take
// most of the run. Then the real server (`bin/vigil.js serve`, a child process) is restarted on
// that database and measured:
//   - restart-to-ready: spawn to the first 200 of GET /readyz, four times, in turns with a copy
//     of the file before the objects were registered (readiness must not grow with the objects);
//   - RSS (/proc/<pid>/status VmRSS, and VmHWM for the peak) when ready, and after real work:
//     facts to 200,000 different cold objects (the dormant hot set fills to VIGIL_HOT_OBJECTS),
//     listings with filters, one-shot timers of 1,000 cold objects falling due, the creation runs;
//   - database bytes per object after a checkpoint (file and WAL; dbstat per table and index);
//   - the HTTP creation rate: PUT /v1/objects/{new id} with the load client (load.ts), three
//     runs, next to a bare hono PUT handler measured with the same client.
// Every figure is printed next to its goal. The file is past 400 lines because it is one
// benchmark, in the order it runs, with the few helpers (a child server, a request loop) that
// serve it alone.
//
// Options (environment): BENCH_SECONDS per creation run (default 5), SCALE_OBJECTS (default
// 1,000,000), SCALE_TOUCHED objects sent facts (default 200,000).

import { createClient } from "@libsql/client";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decide } from "../src/core/decide.ts";
import { DEFAULT_LIMITS } from "../src/core/memory-limits.ts";
import { newObject } from "../src/core/object.ts";
import type { PolicyDocument } from "../src/core/policy.ts";
import { emptyBatch, type CommitBatch } from "../src/core/store.ts";
import { idFactory } from "../src/governor/ids.ts";
import { PolicyRegistry } from "../src/governor/policy-registry.ts";
import { LibsqlStore } from "../src/storage/libsql-store.ts";
import { SystemClock } from "../src/timers/clock.ts";
import { start } from "./facts.ts";
import { client, poster, run, serveNodeOptions, type LoadResult } from "./load.ts";
import { median, percentile } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const OBJECTS = Number(process.env.SCALE_OBJECTS ?? 1_000_000);
const TOUCHED = Math.min(Number(process.env.SCALE_TOUCHED ?? 200_000), Math.floor(OBJECTS * 0.9));
/** Cold objects given a one-shot `wake` timer before the last start. */
const TIMED = Math.min(1000, Math.floor(OBJECTS / 1000));
const TIMER_DELAY_MS = 30_000;
const GROUP = 2000;
/** The k-th fact goes to object k * STRIDE mod OBJECTS: a prime, so no object gets two. */
const STRIDE = 7919;
const JSON_TYPE = { "content-type": "application/json" };

const GOALS = { rssMb: 600, readyS: 5, createPerS: 5000, listMs: 100 };

const BARE_PUT = `
import { Hono } from "hono";
import { serve } from "@hono/node-server";
const app = new Hono();
app.put("/v1/objects/:id", async (c) => c.json({ id: c.req.param("id"), policy: (await c.req.json()).policy }, 201));
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (i) => console.log("listening on http://127.0.0.1:" + i.port));
`;

/** The i-th registered object: ids sort by number; seven in ten queue workers, two on demand, one nightly report. */
const idOf = (i: number) => `o-${String(i).padStart(7, "0")}`;
const policyOf = (i: number) => (i % 10 < 7 ? "queue-worker" : i % 10 < 9 ? "on-demand" : "nightly-report");
const memoryOf = (i: number) => ({ tenant: `t${i % 1000}` });
/** Objects with a timer: every thousandth, all on-demand (i % 10 === 7); no fact is sent to them. */
const isTimed = (i: number) => i % 1000 === 7 && i / 1000 < TIMED;

/** A patch that leaves the object dormant, but for one queue worker in a hundred (it wakes). */
function patchOf(i: number, k: number): unknown {
  const policy = policyOf(i);
  if (policy === "queue-worker") return { queue: { depth: k % 100 === 0 ? 1 : 0 } };
  if (policy === "on-demand") return { work: { pending: 0 } };
  return { report: { status: "idle" } };
}

export interface ScaleFigures {
  objects: number;
  registerPerS: number;
  dbBytesPerObject: number;
  readyS: number[];
  readyEmptyS: number[];
  rssReadyMb: number;
  rssAfterWorkMb: number;
  rssPeakMb: number;
  coldFactMs: number;
  factsPerS: number;
  factErrors: number;
  timersFired: number;
  listMs: Record<string, number>;
  createPerS: number[];
  bareCreatePerS: number;
}

// ---- registration, directly through the store ------------------------------------------

function policyRegistry(): PolicyRegistry {
  const policies = new PolicyRegistry(() => Date.now());
  const errors = policies.loadDirectory(join(ROOT, "rules"));
  if (errors.length > 0) throw new Error(`rules/ has invalid policies: ${JSON.stringify(errors)}`);
  return policies;
}

/** A libsql store on the file that keeps decisions compactly, as the governor sets it up. */
async function openStore(db: string, policies: PolicyRegistry): Promise<LibsqlStore> {
  const store = new LibsqlStore({ url: `file:${db}` });
  store.knowPolicies((hash) => {
    const p = policies.list().items.find((i) => i.hash === hash);
    return p ? { name: p.name, version: p.version, hash, document: p.document as PolicyDocument } : null;
  });
  await store.migrate();
  return store;
}

/**
 * Registers `OBJECTS` objects: each decided by the core as PUT would (trigger `create`) and
 * committed with the same rows (object, journal entry 0, decision), 2,000 to a transaction.
 */
async function register(db: string, print: (line: string) => void): Promise<number> {
  const policies = policyRegistry();
  const store = await openStore(db, policies);
  const clock = new SystemClock();
  const newId = idFactory(clock);
  const deps = { newId, canSuspend: () => true, limits: DEFAULT_LIMITS };
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let first = 0; first < OBJECTS; first += GROUP) {
    const batches: CommitBatch[] = [];
    for (let i = first; i < Math.min(OBJECTS, first + GROUP); i++) {
      const policy = policies.compiled(policyOf(i))!;
      const at = clock.now();
      const record = newObject({ id: idOf(i), policy: policy.name, at, memory: memoryOf(i) });
      const r = await decide(policy, record, { trigger: { kind: "create" }, at }, deps);
      if (r.actions.length > 0) throw new Error(`creating ${record.id} issued actions; pick a quieter policy`);
      batches.push({
        object: r.object,
        journal: { seq: 0, patch: record.memory, at },
        decision: r.decision,
        actions: [],
        supersede: [],
        timerOps: r.timerOps,
        idempotency: null,
      });
    }
    inFlight.push(store.commit(batches));
    if (inFlight.length >= 2) await inFlight.shift();
    if ((first + GROUP) % 200_000 === 0) print(`  ${(first + GROUP).toLocaleString("en")} registered`);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  return OBJECTS / seconds;
}

/** Gives the timed objects a one-shot `wake` timer due at `dueAt`, through the store. */
async function armTimers(db: string, dueAt: number): Promise<void> {
  const store = await openStore(db, policyRegistry());
  const batches: CommitBatch[] = [];
  for (let m = 0; m < TIMED; m++) {
    const object = await store.getObject(idOf(m * 1000 + 7));
    if (!object) throw new Error(`${idOf(m * 1000 + 7)} is missing`);
    const timer = { name: "wake", dueAt, kind: "wake" as const };
    batches.push({
      ...emptyBatch({ ...object, timers: [...object.timers, timer] }),
      timerOps: [{ ...timer, op: "set" }],
    });
  }
  await store.commit(batches);
  await store.close();
}

/** Bytes on disk after a checkpoint (file and WAL), and per table and index (dbstat). */
async function diskFigures(db: string): Promise<{ bytes: number; tables: [string, number][] }> {
  const c = createClient({ url: `file:${db}` });
  await c.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  const pages = await c.execute("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC");
  c.close();
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  return {
    bytes: size(db) + size(`${db}-wal`),
    tables: pages.rows.map((r) => [String(r.name), Number(r.bytes)] as [string, number]).filter(([, b]) => b > 4096),
  };
}

// ---- the server as a child process -----------------------------------------------------

interface Child {
  child: ChildProcess;
  url: string;
  /** Spawn to the first 200 of GET /readyz. */
  readyS: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
  });
}

/** Starts `vigil serve` on the database and polls GET /readyz from the moment of the spawn. */
async function serve(db: string, rules: string, env: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...serveNodeOptions(), "bin/vigil.js", "serve", "--port", String(port)], {
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIL_DB_URL: `file:${db}`,
      VIGIL_RULES_DIR: rules,
      VIGIL_TOKENS: "",
      VIGIL_RECONCILE_INTERVAL: "off",
      VIGIL_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // Its warnings pass through, but for the one every token-less start gives.
  child.stderr!.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n"))
      if (line.trim() !== "" && !line.includes("no tokens configured")) process.stderr.write(`${line}\n`);
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error("the server exited before it was ready");
    if ((await status(`${url}/readyz`)) === 200) return { child, url, readyS: (performance.now() - t0) / 1000 };
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timeout);
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
function rss(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

// ---- requests ---------------------------------------------------------------------------

async function getJson(url: string): Promise<{ status: number; body: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** Sends every request, `connections` at a time over keep-alive; counts replies other than 200. */
async function sendAll(
  url: string,
  requests: { path: string; body: string }[],
  connections: number,
): Promise<{ perS: number; errors: number; p50: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const post = poster(url, agent);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const t = performance.now();
        // A request that gets no reply is an error too, not the end of the run.
        if ((await post(requests[i]!.path, requests[i]!.body).catch(() => null)) !== 200) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  // Answered facts only: a failed request is counted in `errors`, not in the rate.
  return {
    perS: (requests.length - errors) / seconds,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const n0 = (x: number) => Math.round(x).toLocaleString("en");
/** A goal and whether this run met it. */
const goal = (ok: boolean, text: string) => `${text} ${ok ? "(met)" : "(MISSED)"}`;

// ---- the benchmark ----------------------------------------------------------------------

export async function scaleBench(print: (line: string) => void = console.log): Promise<ScaleFigures> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-scale-"));
  const rules = join(dir, "rules");
  cpSync(join(ROOT, "rules"), rules, { recursive: true });
  const db = join(dir, "scale.db");
  const children: ChildProcess[] = [];
  try {
    print(`${n0(OBJECTS)} objects, registered directly through the store (core decide + LibsqlStore.commit,`);
    print(`${GROUP} create batches a transaction; not over HTTP); client ${client}; file database, synchronous = FULL`);
    // The server's first start on the new file migrates it and arms every policy's schedules
    // (none has objects yet), as it would before objects were created over HTTP. A copy of the
    // file as it is then is the empty database the restarts are compared with.
    await stop((await serve(db, rules)).child);
    const emptyDb = join(dir, "empty.db");
    for (const suffix of ["", "-wal"]) if (existsSync(db + suffix)) copyFileSync(db + suffix, emptyDb + suffix);
    const registerPerS = await register(db, print);
    print(`registered ${n0(OBJECTS)} objects at ${n0(registerPerS)}/s`);
    const disk = await diskFigures(db);
    const dbBytesPerObject = disk.bytes / OBJECTS;
    print(
      `database: ${(disk.bytes / 2 ** 20).toFixed(0)} MiB after a checkpoint, ${dbBytesPerObject.toFixed(0)} bytes/object`,
    );
    print(`  by table and index: ${disk.tables.map(([n, b]) => `${n} ${(b / OBJECTS).toFixed(0)}`).join(", ")}`);

    // Restarts, taking turns with the empty database (the machine is shared: turns even out
    // what other work does to both).
    const readyS: number[] = [];
    const readyEmptyS: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const [file, into] of [
        [emptyDb, readyEmptyS],
        [db, readyS],
      ] as const) {
        const s = await serve(file, rules);
        into.push(s.readyS);
        await stop(s.child);
      }
    }
    const timerDue = Date.now() + TIMER_DELAY_MS;
    await armTimers(db, timerDue);
    const server = await serve(db, rules);
    children.push(server.child);
    readyS.push(server.readyS);
    const pid = server.child.pid!;
    const ready = rss(pid);
    print(
      `restart-to-ready with ${n0(OBJECTS)} objects: ${readyS.map((s) => s.toFixed(2)).join(", ")} s; empty database ${readyEmptyS.map((s) => s.toFixed(2)).join(", ")} s`,
    );
    print(`RSS when ready: ${ready.rss.toFixed(0)} MB`);

    // Cold objects: read, listed with filters, sent facts.
    const listMs: Record<string, number> = {};
    const list = async (name: string, query: string, min: number) => {
      const times: number[] = [];
      let items = 0;
      for (let k = 0; k < 5; k++) {
        const r = await getJson(`${server.url}/v1/objects?${query}`);
        if (r.status !== 200) throw new Error(`GET /v1/objects?${query}: ${r.status} ${JSON.stringify(r.body)}`);
        items = r.body.items.length;
        times.push(r.ms);
      }
      if (items < min) throw new Error(`GET /v1/objects?${query} listed ${items} objects, expected ${min}`);
      listMs[name] = median(times);
      print(`  GET /v1/objects?${query}: ${items} items, ${median(times).toFixed(1)} ms (median of 5)`);
    };
    const cold = await getJson(`${server.url}/v1/objects/${idOf(OBJECTS - 1)}`);
    if (cold.status !== 200) throw new Error(`GET of a cold object: ${cold.status}`);
    print(`listing cold objects:`);
    await list("state=dormant", "state=dormant&limit=500", 500);
    await list("policy=nightly-report", "policy=nightly-report&limit=500", 500);
    await list("state=dormant&policy=on-demand", "state=dormant&policy=on-demand&limit=500", 500);
    const page = await getJson(`${server.url}/v1/objects?policy=on-demand&limit=500`);
    await list("a later page (cursor)", `policy=on-demand&limit=500&cursor=${page.body.nextCursor}`, 500);

    // Facts to cold objects: the k-th goes to object k * 7919 mod OBJECTS (a permutation: no
    // object twice). First a few one at a time, for the latency of a cold arrival alone.
    const factTo = (k: number) => {
      const i = (k * STRIDE) % OBJECTS;
      return {
        path: `/v1/objects/${idOf(i)}/facts`,
        body: JSON.stringify({ facts: patchOf(i, k) }),
        timed: isTimed(i),
      };
    };
    const alone: number[] = [];
    for (let k = OBJECTS - 1; alone.length < 20; k--) {
      const f = factTo(k);
      if (f.timed) continue;
      const t0 = performance.now();
      const res = await fetch(`${server.url}${f.path}`, { method: "POST", headers: JSON_TYPE, body: f.body });
      await res.text();
      if (res.status !== 200) throw new Error(`POST ${f.path}: ${res.status}`);
      alone.push(performance.now() - t0);
    }
    const coldFactMs = median(alone);
    print(`a fact to a cold object, one at a time: ${coldFactMs.toFixed(1)} ms (median of 20)`);
    const facts: { path: string; body: string }[] = [];
    for (let k = 0; facts.length < TOUCHED; k++) if (!factTo(k).timed) facts.push(factTo(k));
    const sent = await sendAll(server.url, facts, 64);
    const afterFacts = rss(pid);
    print(
      `facts to ${n0(TOUCHED)} different cold objects, 64 at a time: ${n0(sent.perS)}/s, p50 ${sent.p50.toFixed(1)} ms, p99 ${sent.p99.toFixed(1)} ms, ${sent.errors} not 200`,
    );
    print(`RSS after them (the dormant hot set full, VIGIL_HOT_OBJECTS=100,000): ${afterFacts.rss.toFixed(0)} MB`);

    // The timers of cold objects fall due while the server runs.
    await new Promise((r) => setTimeout(r, Math.max(0, timerDue + 3000 - Date.now())));
    let timersFired = 0;
    for (let m = 0; m < TIMED; m++) {
      const o = await getJson(`${server.url}/v1/objects/${idOf(m * 1000 + 7)}`);
      if (o.body.state !== "dormant" && !o.body.timers.some((t: { name: string }) => t.name === "wake")) timersFired++;
    }
    const last = await getJson(`${server.url}/v1/objects/${idOf(7)}/decisions?limit=1`);
    const trigger = last.body.items[0]?.trigger;
    print(
      `one-shot wake timers of ${n0(TIMED)} cold objects: ${timersFired} fired (last decision of ${idOf(7)}: ${JSON.stringify(trigger)}, ${last.body.items[0]?.outcome})`,
    );
    print(`listing after the work:`);
    await list("state=active", "state=active&limit=500", 1);
    await list("state=dormant (after work)", "state=dormant&limit=500", 500);
    // Two filters that no object matches together: the worst case of a combined filter.
    await list("state=failed&policy=queue-worker (none match)", "state=failed&policy=queue-worker&limit=100", 0);

    // Creation over HTTP, next to a bare hono PUT handler measured with the same client.
    // The baseline runs with the server's node options too (the young generation's size).
    const bare = await start([...serveNodeOptions(), "--input-type=module", "-e", BARE_PUT]);
    children.push(bare.child);
    const body = JSON.stringify({ policy: "queue-worker", memory: { tenant: "t1" } });
    const load = {
      requests: [{ path: "/v1/objects/new", body }],
      connections: 64,
      method: "PUT" as const,
      expect: 201,
    };
    const creation = (url: string, seconds = SECONDS) => run(url, { ...load, unique: true, seconds });
    await creation(bare.url, 1);
    await creation(server.url, 1);
    const bareBefore = await creation(bare.url);
    const runs: LoadResult[] = [];
    for (let r = 0; r < 3; r++) runs.push(await creation(server.url));
    const bareAfter = await creation(bare.url);
    await stop(bare.child);
    const bareCreatePerS = (bareBefore.rps + bareAfter.rps) / 2;
    const createPerS = runs.map((r) => r.rps);
    print(`PUT /v1/objects/{new id}, 64 connections, ${SECONDS} s a run:`);
    for (const r of runs)
      print(
        `  ${n0(r.rps)} objects/s (${(r.rps / bareCreatePerS).toFixed(2)}x bare hono PUT), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} not 201`,
      );
    print(`  bare hono PUT handler: ${n0(bareCreatePerS)}/s (before and after)`);
    const afterCreate = rss(pid);
    print(`RSS after the creation runs: ${afterCreate.rss.toFixed(0)} MB (peak ${afterCreate.peak.toFixed(0)} MB)`);
    await stop(server.child);

    const figures: ScaleFigures = {
      objects: OBJECTS,
      registerPerS,
      dbBytesPerObject,
      readyS,
      readyEmptyS,
      rssReadyMb: ready.rss,
      rssAfterWorkMb: Math.max(afterFacts.rss, afterCreate.rss),
      rssPeakMb: afterCreate.peak,
      coldFactMs,
      factsPerS: sent.perS,
      factErrors: sent.errors,
      timersFired,
      listMs,
      createPerS,
      bareCreatePerS,
    };
    const worstList = Math.max(...Object.values(listMs));
    const readyWorst = Math.max(...readyS);
    const created = median(createPerS);
    const rows: [string, string, string][] = [
      ["RSS when ready", `${ready.rss.toFixed(0)} MB`, goal(ready.rss <= GOALS.rssMb, `<= ${GOALS.rssMb} MB`)],
      [
        "RSS after the work, and its peak",
        `${figures.rssAfterWorkMb.toFixed(0)} MB, ${afterCreate.peak.toFixed(0)} MB`,
        goal(afterCreate.peak <= GOALS.rssMb, `<= ${GOALS.rssMb} MB`),
      ],
      [
        `restart-to-ready, worst of ${readyS.length}`,
        `${readyWorst.toFixed(2)} s`,
        goal(readyWorst <= GOALS.readyS, `<= ${GOALS.readyS} s`),
      ],
      ["  median against an empty database", `${(median(readyS) / median(readyEmptyS)).toFixed(2)}x`, "~1x: no growth"],
      [
        "HTTP creation, median of 3 runs",
        `${n0(created)}/s`,
        goal(created >= GOALS.createPerS, `>= ${n0(GOALS.createPerS)}/s`),
      ],
      ["database bytes per object", `${dbBytesPerObject.toFixed(0)} B`, "none set"],
      [
        "listing with filters, slowest median",
        `${worstList.toFixed(1)} ms`,
        goal(worstList <= GOALS.listMs, `<= ${GOALS.listMs} ms`),
      ],
      ["a fact to a cold object alone", `${coldFactMs.toFixed(1)} ms`, "answered (no goal set)"],
      ["facts to cold objects answered", `${n0(TOUCHED - sent.errors)}/${n0(TOUCHED)}`, goal(sent.errors === 0, "all")],
      ["wake timers of cold objects fired", `${timersFired}/${TIMED}`, goal(timersFired === TIMED, "all")],
    ];
    print("");
    print(`${"figure".padEnd(38)} ${"value".padEnd(16)} goal`);
    for (const [name, value, g] of rows) print(`${name.padEnd(38)} ${value.padEnd(16)} ${g}`);
    return figures;
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await scaleBench();
