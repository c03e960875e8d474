// POST /v1/objects/{id}/facts (durable, evaluated, group-committed) against a bare hono POST
// handler measured in the same run, on the same machine, with the same client (load.ts). Figures
// are ratios to that baseline: the machine is shared and noisy, so absolute numbers mean little
// from one run to the next, and each figure is the median of a few rounds. Two workloads, each
// with the full reply and with `Prefer: return=minimal`:
//   - the defaults: 256 objects of rules/queue-worker.json, 64 connections, a flat patch;
//   - 1,000 objects of bench/policies/five-rules.json (five rules over nested memory), 32
//     connections, nested patches.
// Each workload also prints the pages its commits write to the WAL, by table and index
// (wal-pages.ts). Then the bytes a stored decision takes on disk (the decisions table and its
// indexes).
//
// Options (environment): BENCH_SECONDS per run (default 5), BENCH_FACTS_ROUNDS (default 3).

import { createClient } from "@libsql/client";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { client, run, serveNodeOptions, type Load, type LoadResult } from "./load.ts";
import { median } from "./stats.ts";
import { walPages, walPagesLine } from "./wal-pages.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_FACTS_ROUNDS ?? 3));

interface Round {
  /** The mean of the bare handler's rate before and after the round's two vigil runs. */
  baseline: number;
  full: LoadResult & { cpuUs: number; mainUs: number };
  minimal: LoadResult & { cpuUs: number; mainUs: number };
  bareCpuUs: number;
}

export const BARE = `
import { Hono } from "hono";
import { serve } from "@hono/node-server";
const app = new Hono();
app.post("/v1/objects/:id/facts", async (c) => c.json({ id: c.req.param("id"), facts: (await c.req.json()).facts }));
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (i) => console.log("listening on http://127.0.0.1:" + i.port));
`;

export function start(args: string[], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: "warn", VIGIL_TOKENS: "", VIGIL_RECONCILE_INTERVAL: "off", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** Creates objects over HTTP, a few at a time. */
export async function create(url: string, ids: string[], policy: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 16)
    await Promise.all(
      ids.slice(i, i + 16).map(async (id) => {
        const res = await fetch(`${url}/v1/objects/${id}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ policy }),
        });
        if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
      }),
    );
}

/** Patches of an inference worker's nested memory, varied so that the rules go every way. */
function nestedPatch(i: number): unknown {
  const at = new Date(Date.now() - (i % 20) * 60_000).toISOString();
  return {
    queue: { pending: { count: i % 3 === 0 ? 0 : i % 7 } },
    jobs: { running: i % 4 === 0 ? 1 : 0, owners: i % 5 === 0 ? ["maintenance"] : ["api"] },
    tenant: { tier: ["standard", "gold", "platinum"][i % 3], sla: { p99Ms: 500 } },
    metrics: { latency: { p99Ms: 200 + ((i * 37) % 900) }, samples: [{ at, value: i % 100 }] },
    activity: { lastRequestAt: at },
  };
}

export interface Workload {
  name: string;
  objects: number;
  connections: number;
  policy: string;
  patch: (i: number) => unknown;
}

export const WORKLOADS: Workload[] = [
  {
    name: "defaults: 256 objects, 64 connections, queue-worker",
    objects: 256,
    connections: 64,
    policy: "queue-worker",
    patch: (i) => ({ queue: { depth: 1 + (i % 5) } }),
  },
  {
    name: "1,000 objects, 32 connections, five rules over nested memory",
    objects: 1000,
    connections: 32,
    policy: "five-rules",
    patch: nestedPatch,
  },
];

/** The ids of a workload's objects. */
export const objectIds = (w: Workload) => Array.from({ length: w.objects }, (_, i) => `${w.policy}-${i}`);

/** A workload's requests: facts to its objects, spread so that consecutive ones go to different objects. */
export const factRequests = (w: Workload, ids: string[]) =>
  Array.from({ length: Math.max(w.objects, 64) }, (_, i) => ({
    path: `/v1/objects/${ids[(i * 7919) % ids.length]}/facts`,
    body: JSON.stringify({ facts: w.patch(i) }),
  }));

export interface FactsFigures {
  /** Per workload: the durable facts route's ratio to the baseline, full reply and minimal. */
  workloads: { name: string; full: number; minimal: number }[];
  /** The lowest of those ratios. */
  worst: number;
  decisionBytes: number;
}

/** CPU time (user and system) of a process's main thread and of all its threads, in µs; Linux only. */
function cpuUs(pid: number): { main: number; all: number } {
  const ticks = (path: string) => {
    const stat = readFileSync(path, "utf8");
    const [utime, stime] = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .slice(11, 13)
      .map(Number);
    return ((utime! + stime!) * 1e6) / 100;
  };
  try {
    return { main: ticks(`/proc/${pid}/task/${pid}/stat`), all: ticks(`/proc/${pid}/stat`) };
  } catch {
    return { main: NaN, all: NaN };
  }
}

/**
 * A run, with the server's CPU time per request: less sensitive than throughput to what else
 * the shared machine runs meanwhile (the clock ticks of /proc are 10 ms; runs last seconds).
 */
export async function measured(
  server: ChildProcess,
  go: () => Promise<LoadResult>,
): Promise<LoadResult & { cpuUs: number; mainUs: number }> {
  const start = cpuUs(server.pid!);
  const r = await go();
  const end = cpuUs(server.pid!);
  const n = Math.max(1, r.requests);
  return { ...r, cpuUs: (end.all - start.all) / n, mainUs: (end.main - start.main) / n };
}

const row = (name: string, r: LoadResult, baseline: number) =>
  `${name.padEnd(44)} ${(r.rps / baseline).toFixed(2)}x   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms   errors ${r.errors}`;

export async function factsBench(print: (line: string) => void = console.log): Promise<FactsFigures> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const servers: ChildProcess[] = [];
  const rules = join(dir, "rules");
  cpSync(join(ROOT, "rules"), rules, { recursive: true });
  cpSync(join(ROOT, "bench", "policies", "five-rules.json"), join(rules, "five-rules.json"));
  const db = join(dir, "bench.db");
  let worst = Infinity;
  const workloads: FactsFigures["workloads"] = [];
  try {
    // The baseline runs with the server's node options too (the young generation's size).
    const bare = await start([...serveNodeOptions(), "--input-type=module", "-e", BARE]);
    servers.push(bare.child);
    const vigil = await start([...serveNodeOptions(), "bin/vigil.js", "serve", "--port", "0"], {
      VIGIL_DB_URL: `file:${db}`,
      VIGIL_RULES_DIR: rules,
    });
    servers.push(vigil.child);
    print(`client ${client}, ${SECONDS} s per run, ${ROUNDS} rounds, file database (synchronous = FULL)`);
    for (const w of WORKLOADS) {
      const ids = objectIds(w);
      await create(vigil.url, ids, w.policy);
      const requests = factRequests(w, ids);
      const load = (extra: Partial<Load> = {}): Load => ({
        requests,
        connections: w.connections,
        seconds: SECONDS,
        ...extra,
      });
      const bareLoad = (): Load => ({
        ...load(),
        requests: requests.map((r) => ({ path: "/v1/objects/x/facts", body: r.body })),
      });
      await run(bare.url, { ...bareLoad(), seconds: 1 }); // warm-up
      await run(vigil.url, { ...load(), seconds: 1 });
      print("");
      print(w.name);
      // Rounds of bare, vigil (full), vigil (minimal), bare: each round's ratios are to the mean
      // of its two baselines, and the median round is the figure (a shared machine's noise moves
      // single runs by a fifth or more).
      const rounds: Round[] = [];
      for (let k = 1; k <= ROUNDS; k++) {
        const before = await measured(bare.child, () => run(bare.url, bareLoad()));
        const full = await measured(vigil.child, () => run(vigil.url, load()));
        const minimal = await measured(vigil.child, () =>
          run(vigil.url, load({ headers: { prefer: "return=minimal" } })),
        );
        const after = await measured(bare.child, () => run(bare.url, bareLoad()));
        const baseline = (before.rps + after.rps) / 2;
        rounds.push({ baseline, full, minimal, bareCpuUs: (before.cpuUs + after.cpuUs) / 2 });
        print(
          `  round ${k}: bare hono POST handler ${Math.round(baseline)} req/s (before ${Math.round(before.rps)}, after ${Math.round(after.rps)})`,
        );
        print(`    ${row("vigil POST facts, full reply", full, baseline)}`);
        print(`    ${row("vigil POST facts, Prefer: return=minimal", minimal, baseline)}`);
      }
      const fullRatio = median(rounds.map((r) => r.full.rps / r.baseline));
      const minimalRatio = median(rounds.map((r) => r.minimal.rps / r.baseline));
      const range = (pick: (r: Round) => LoadResult) => {
        const ratios = rounds.map((r) => pick(r).rps / r.baseline);
        return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x`;
      };
      print(`  baseline: bare hono POST handler = 1.00x; median of ${ROUNDS} rounds (range):`);
      print(`    vigil POST facts, full reply                 ${fullRatio.toFixed(2)}x (${range((r) => r.full)})`);
      print(
        `    vigil POST facts, Prefer: return=minimal     ${minimalRatio.toFixed(2)}x (${range((r) => r.minimal)})`,
      );
      const us = (pick: (r: Round) => { cpuUs: number; mainUs: number }) =>
        `${median(rounds.map((r) => pick(r).cpuUs)).toFixed(0)} µs (main thread ${median(rounds.map((r) => pick(r).mainUs)).toFixed(0)})`;
      print(
        `  server CPU per request, all threads, median: bare hono ${median(rounds.map((r) => r.bareCpuUs)).toFixed(0)} µs`,
      );
      print(`    vigil, full reply ${us((r) => r.full)}; Prefer: return=minimal ${us((r) => r.minimal)}`);
      // The writer's side, by a measure the machine's noise does not move (wal-pages.ts).
      const wal = await walPages(db, async () => {
        const r = await run(vigil.url, load({ seconds: 1, headers: { prefer: "return=minimal" } }));
        return r.requests - r.errors;
      });
      print(`  WAL ${walPagesLine(wal)}`);
      worst = Math.min(worst, fullRatio, minimalRatio);
      workloads.push({ name: w.name, full: fullRatio, minimal: minimalRatio });
    }
    print(`goal: vigil POST facts >= 0.50x of the baseline (long-term aim 0.70x); lowest here ${worst.toFixed(2)}x`);
  } finally {
    for (const s of servers) s.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    const c = createClient({ url: `file:${db}` });
    const pages = await c.execute(
      "SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('decisions', 'sqlite_autoindex_decisions_1', 'decisions_object')",
    );
    const count = await c.execute("SELECT COUNT(*) AS n FROM decisions");
    c.close();
    const n = Number(count.rows[0]!.n);
    const decisionBytes = Number(pages.rows[0]!.bytes) / n;
    print("");
    print(`stored decisions: ${n}, ${decisionBytes.toFixed(0)} bytes each on disk (table and indexes); goal <= 400`);
    return { workloads, worst, decisionBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await factsBench();
