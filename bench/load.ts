// The benchmarks' HTTP load: requests (POST by default, or PUT) from a fixed list of paths and
// bodies, over keep-alive connections, for a number of seconds. With `unique`, every request's
// path gets a suffix no other request uses (creating new objects). It uses wrk when it is on PATH
// (a C client takes far less of this 2-core machine than one in Node) and a Node client
// otherwise; every figure is printed as a ratio to a baseline measured with the same client in
// the same run, or averaged over runs.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile } from "./stats.ts";

export interface Load {
  /** Requests, as path and body, sent in turn by every connection. */
  requests: { path: string; body: string }[];
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** The method of every request (default POST). */
  method?: "POST" | "PUT";
  /** The status a reply must have to count; any other is an error (default 200). */
  expect?: number;
  /**
   * Appends `-<run>-<thread>x<n>` to every path: no two requests of any run share a path (a PUT
   * then creates a new object each time). Keep the paths short enough for ids of 128 characters.
   */
  unique?: boolean;
}

export interface LoadResult {
  rps: number;
  /** Requests answered in the run (including errors). */
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export const client: "wrk" | "node" = spawnSync("wrk", ["--version"]).error ? "node" : "wrk";

/**
 * The node options `npm start` runs the server with (package.json's `start` script, such as
 * the young generation's size): the benchmarks run the server as it is deployed.
 */
export function serveNodeOptions(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    scripts: { start: string };
  };
  const m = /^node((?: --\S+)*) bin\/vigil\.js serve$/.exec(pkg.scripts.start);
  if (!m)
    throw new Error(`package.json's start script is not "node [--options] bin/vigil.js serve": ${pkg.scripts.start}`);
  return m[1]!.trim().split(" ").filter(Boolean);
}

/** Runs the load against `url` with the client this machine has. */
export function run(url: string, load: Load): Promise<LoadResult> {
  return runWith(client, url, load);
}

/** Runs the load with the given client (the tests try both). */
export function runWith(which: "wrk" | "node", url: string, load: Load): Promise<LoadResult> {
  return which === "wrk" ? wrk(url, load) : node(url, load);
}

async function wrk(url: string, load: Load): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-wrk-"));
  try {
    const lua = join(dir, "post.lua");
    const quote = (s: string) => JSON.stringify(s);
    const headers = { "content-type": "application/json", ...load.headers };
    writeFileSync(
      lua,
      [
        `local paths = {${load.requests.map((r) => quote(r.path)).join(",")}}`,
        `local bodies = {${load.requests.map((r) => quote(r.body)).join(",")}}`,
        `local headers = {${Object.entries(headers)
          .map(([k, v]) => `[${quote(k)}] = ${quote(v)}`)
          .join(",")}}`,
        `local method = ${quote(load.method ?? "POST")}`,
        `local expect = ${load.expect ?? 200}`,
        `local unique = ${load.unique ? "true" : "false"}`,
        `local run = ${quote(runTag())}`,
        // Each thread is told its number, so that unique paths differ between threads too.
        "local threads = {}",
        "setup = function(thread) thread:set('tid', #threads); table.insert(threads, thread) end",
        "local n = 0",
        "errors = 0",
        "request = function()",
        "  n = n + 1",
        "  local i = (n % #paths) + 1",
        "  local path = paths[i]",
        "  if unique then path = path .. '-' .. run .. '-' .. tid .. 'x' .. n end",
        "  return wrk.format(method, path, headers, bodies[i])",
        "end",
        "response = function(status) if status ~= expect then errors = errors + 1 end end",
        "done = function(summary, latency)",
        // Replies of another status, and requests that got none (a refused or dropped
        // connection, no answer within --timeout).
        "  local e = summary.errors",
        "  local unanswered = e.connect + e.read + e.write + e.timeout",
        "  local unexpected = 0",
        "  for _, t in ipairs(threads) do unexpected = unexpected + t:get('errors') end",
        '  io.write(string.format("RESULT %d %d %f %f %d %d\\n", summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000, unexpected, unanswered))',
        "end",
      ].join("\n"),
    );
    const threads = Math.min(2, load.connections);
    const out = await new Promise<string>((resolve, reject) => {
      // wrk's latency histogram ends at its timeout (2 s by default), and a slower reply is
      // counted as a timeout, not a latency: the timeout is the whole run, and more.
      const timeout = `--timeout=${Math.max(10, 2 * load.seconds)}s`;
      const p = spawn("wrk", [`-t${threads}`, `-c${load.connections}`, `-d${load.seconds}s`, timeout, "-s", lua, url]);
      let text = "";
      p.stdout.on("data", (d: Buffer) => (text += d.toString()));
      p.on("error", reject);
      p.on("exit", () => resolve(text));
    });
    const m = /RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(out);
    if (!m) throw new Error(`wrk printed no result:\n${out}`);
    const [requests, durationUs, p50, p99, unexpected, unanswered] = m.slice(1).map(Number) as number[] as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    // The rate counts replies of the expected status; errors, the other replies and the
    // requests that got none.
    return { rps: (requests - unexpected) / (durationUs / 1e6), requests, errors: unexpected + unanswered, p50, p99 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends one request over `agent` and resolves with its status once the reply has been read. */
export function poster(
  url: string,
  agent: http.Agent,
  method = "POST",
  headers: Record<string, string> = {},
): (path: string, body: string) => Promise<number> {
  const { hostname, port } = new URL(url);
  return (path, body) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          hostname,
          port,
          path,
          method,
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

/** A short tag that differs from run to run (unique paths). */
const runTag = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;

async function node(url: string, load: Load): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.connections });
  const run = runTag();
  const post = poster(url, agent, load.method ?? "POST", load.headers);
  const deadline = performance.now() + load.seconds * 1000;
  let ok = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async (w: number) => {
    for (let i = w; performance.now() < deadline; i += load.connections) {
      const r = load.requests[i % load.requests.length]!;
      const t0 = performance.now();
      // A request that gets no reply (a refused or dropped connection) is an error too.
      const status = await post(load.unique ? `${r.path}-${run}-${w}x${i}` : r.path, r.body).catch(() => null);
      if (status === null) {
        errors++;
        continue;
      }
      latencies.push(performance.now() - t0);
      if (status === (load.expect ?? 200)) ok++;
      else errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: load.connections }, (_, w) => worker(w)));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / elapsed,
    requests: ok + errors,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
