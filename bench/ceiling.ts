// What any design of the durable fact path could reach on this machine, next to what Vigil
// reaches: a skeleton of the path (bench/ceiling/server.mjs: Node's HTTP server, one parse,
// group commit on a writer thread with synchronous = FULL, the reply after the commit; no
// rules, no validation, no framework) in four storage shapes, against the bare hono handler of
// `npm run bench`, on its two workloads, with `Prefer: return=minimal` for Vigil:
//   - one appended row a fact: the least a durable, acknowledged fact can cost here;
//   - that, and the object's row with its memory (an upsert by its id);
//   - Vigil's shape: the journal entry, the decision and the object's row with their indexes,
//     as Vigil's schema keeps them (two of them per object: each arrival lands on its own
//     object's page);
//   - a candidate layout Vigil does not have: an arrival's journal entry and decision in one tree
//     keyed by (object_id, seq), a decision found by its id through a small appended index, and
//     the object's row (two random pages an arrival instead of three).
// The gaps between the skeletons are what the storage shape costs; the gap between the last one
// and Vigil is what Vigil's own work (HTTP routing, checks, evaluation, encoding) costs. Each
// run also gives the server's CPU a request, its main thread's and all its threads'.
//
// Options (environment): BENCH_SECONDS per run (default 5), BENCH_FACTS_ROUNDS (default 3).

import type { ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BARE, WORKLOADS, create, factRequests, measured, objectIds, start } from "./facts.ts";
import { client, run, serveNodeOptions, type Load, type LoadResult } from "./load.ts";
import { median } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_FACTS_ROUNDS ?? 3));
const SKELETON = join(ROOT, "bench", "ceiling", "server.mjs");

type Measured = LoadResult & { cpuUs: number; mainUs: number };

interface Contender {
  name: string;
  url: string;
  child: ChildProcess;
  /** The requests it is sent (the bare handler gets one path: it keeps nothing per object). */
  load: Load;
  runs: { ratio: number; run: Measured }[];
}

export interface CeilingFigures {
  /** Per workload, the median ratio of each contender to the bare handler. */
  workloads: { name: string; ratios: Record<string, number> }[];
}

export async function ceilingBench(print: (line: string) => void = console.log): Promise<CeilingFigures> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-ceiling-"));
  const children: ChildProcess[] = [];
  const started = async (args: string[], env: Record<string, string> = {}) => {
    const s = await start(args, env);
    children.push(s.child);
    return s;
  };
  try {
    const rules = join(dir, "rules");
    cpSync(join(ROOT, "rules"), rules, { recursive: true });
    cpSync(join(ROOT, "bench", "policies", "five-rules.json"), join(rules, "five-rules.json"));
    const options = serveNodeOptions();
    const bare = await started([...options, "--input-type=module", "-e", BARE]);
    const append = await started([...options, SKELETON], { CEILING_SHAPE: "append", CEILING_DB: join(dir, "a.db") });
    const row = await started([...options, SKELETON], { CEILING_SHAPE: "row", CEILING_DB: join(dir, "r.db") });
    const shaped = await started([...options, SKELETON], { CEILING_SHAPE: "vigil", CEILING_DB: join(dir, "s.db") });
    const tree = await started([...options, SKELETON], { CEILING_SHAPE: "tree", CEILING_DB: join(dir, "t.db") });
    const vigil = await started([...options, "bin/vigil.js", "serve", "--port", "0"], {
      VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`,
      VIGIL_RULES_DIR: rules,
    });
    print(`client ${client}, ${SECONDS} s per run, ${ROUNDS} rounds, file databases (synchronous = FULL)`);
    const figures: CeilingFigures = { workloads: [] };
    for (const w of WORKLOADS) {
      const ids = objectIds(w);
      // Every contender's objects are created first, in the same order (their rows' layout).
      for (const c of [vigil, append, row, shaped, tree]) await create(c.url, ids, w.policy);
      const requests = factRequests(w, ids);
      const load: Load = { requests, connections: w.connections, seconds: SECONDS };
      const contender = (name: string, s: { url: string; child: ChildProcess }, l: Load): Contender => ({
        name,
        ...s,
        load: l,
        runs: [],
      });
      const others = [
        contender("skeleton, one appended row a fact", append, load),
        contender("skeleton, appended row + object's row", row, load),
        contender("skeleton, Vigil's rows and indexes", shaped, load),
        contender("skeleton, entry+decision in one tree", tree, load),
        contender("vigil, Prefer: return=minimal", vigil, { ...load, headers: { prefer: "return=minimal" } }),
      ];
      const bareLoad = { ...load, requests: requests.map((r) => ({ path: "/v1/objects/x/facts", body: r.body })) };
      for (const c of [contender("bare", bare, bareLoad), ...others]) await run(c.url, { ...c.load, seconds: 1 });
      print("");
      print(w.name);
      const bareCpu: { cpuUs: number; mainUs: number }[] = [];
      for (let k = 1; k <= ROUNDS; k++) {
        // bare, each contender, bare: each ratio is to the mean of its round's two baselines.
        const before = await measured(bare.child, () => run(bare.url, bareLoad));
        const runs: Measured[] = [];
        for (const c of others) runs.push(await measured(c.child, () => run(c.url, c.load)));
        const after = await measured(bare.child, () => run(bare.url, bareLoad));
        const baseline = (before.rps + after.rps) / 2;
        bareCpu.push(before, after);
        others.forEach((c, i) => c.runs.push({ ratio: runs[i]!.rps / baseline, run: runs[i]! }));
        print(`  round ${k}: bare hono POST handler ${Math.round(baseline)} req/s`);
        for (const [i, c] of others.entries()) print(`    ${line(c.name, runs[i]!, runs[i]!.rps / baseline)}`);
      }
      print(`  median of ${ROUNDS} rounds (range), server CPU a request (main thread):`);
      print(`    ${"bare hono POST handler".padEnd(40)} 1.00x                ${cpu(bareCpu)}`);
      const ratios: Record<string, number> = {};
      for (const c of others) {
        const r = c.runs.map((x) => x.ratio);
        ratios[c.name] = median(r);
        const range = `(${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}x)`;
        print(`    ${c.name.padEnd(40)} ${median(r).toFixed(2)}x ${range.padEnd(14)} ${cpu(c.runs.map((x) => x.run))}`);
      }
      figures.workloads.push({ name: w.name, ratios });
    }
    print("");
    print("goal (npm run bench): vigil POST facts >= 0.50x. What the skeletons reach is the most a design of that");
    print("shape could, before any of Vigil's own work (docs/architecture.md, 'Where the time goes').");
    return figures;
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

const line = (name: string, r: Measured, ratio: number) =>
  `${name.padEnd(40)} ${ratio.toFixed(2)}x   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms   errors ${r.errors}`;

const cpu = (runs: { cpuUs: number; mainUs: number }[]) =>
  `${median(runs.map((r) => r.cpuUs)).toFixed(0)} µs (${median(runs.map((r) => r.mainUs)).toFixed(0)})`;

if (import.meta.url === `file://${process.argv[1]}`) await ceilingBench();
