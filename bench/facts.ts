// `npm run bench`: POST /v1/objects/{id}/facts (durable, evaluated, group-committed) against a
// bare hono POST handler measured in the same run, on the same machine, with the same client.
// Figures are printed as ratios to that baseline: the machine is shared and noisy, so
// absolute numbers mean little from one run to the next.
//
// Options (environment): BENCH_SECONDS (default 5), BENCH_CONNECTIONS (64), BENCH_OBJECTS (256).

import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 256);

const BARE = `
import { Hono } from "hono";
import { serve } from "@hono/node-server";
const app = new Hono();
app.post("/v1/objects/:id/facts", async (c) => c.json({ id: c.req.param("id"), facts: (await c.req.json()).facts }));
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (i) => console.log("listening on http://127.0.0.1:" + i.port));
`;

function start(args: string[], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: "warn", VIGIL_TOKENS: "", ...env },
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

/** A keep-alive node:http client: fetch (undici) saturates long before a bare hono server does. */
async function load(url: string): Promise<{ rps: number; errors: number; p50: number; p99: number }> {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const post = (path: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          hostname,
          port,
          path,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const deadline = performance.now() + SECONDS * 1000;
  let ok = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const id = `bench-${(w * 7919 + i) % OBJECTS}`;
      const t0 = performance.now();
      const status = await post(
        `/v1/objects/${id}/facts`,
        JSON.stringify({ facts: { queue: { depth: 1 + (i % 5) } } }),
      );
      latencies.push(performance.now() - t0);
      if (status === 200) ok++;
      else errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rps: ok / elapsed, errors, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const servers: ChildProcess[] = [];
  try {
    const bare = await start(["--input-type=module", "-e", BARE]);
    servers.push(bare.child);
    const vigil = await start(["bin/vigil.js", "serve", "--port", "0"], {
      VIGIL_DB_URL: `file:${join(dir, "bench.db")}`,
    });
    servers.push(vigil.child);
    for (let i = 0; i < OBJECTS; i++) {
      const res = await fetch(`${vigil.url}/v1/objects/bench-${i}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ policy: "queue-worker" }),
      });
      if (res.status !== 201) throw new Error(`create bench-${i}: ${res.status}`);
    }
    console.log(
      `${CONNECTIONS} connections, ${OBJECTS} objects, ${SECONDS}s per run, policy queue-worker, file database`,
    );
    await load(bare.url); // warm-up
    await load(vigil.url);
    const base = await load(bare.url);
    const facts = await load(vigil.url);
    const base2 = await load(bare.url);
    const baseline = (base.rps + base2.rps) / 2;
    const row = (name: string, r: { rps: number; errors: number; p50: number; p99: number }) =>
      `${name.padEnd(36)} ${(r.rps / baseline).toFixed(2)}x   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms   errors ${r.errors}`;
    console.log(`baseline: bare hono POST handler = 1.00x (${Math.round(baseline)} req/s this run, before and after)`);
    console.log(row("bare hono POST (before)", base));
    console.log(row("bare hono POST (after)", base2));
    console.log(row("vigil POST facts (durable)", facts));
    console.log(`goal: vigil POST facts >= 0.70x of the baseline`);
  } finally {
    for (const s of servers) s.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
