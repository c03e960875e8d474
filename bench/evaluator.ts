// `npm run bench:evaluator`: evaluations per second of the compiled rules (rules-compiler.ts)
// against json-rules-engine, with Vigil's configuration (its EnginePool, pathResolver and
// explanation, as evaluateRules ran before the compiler) and with json-rules-engine's default
// options (jsonpath-plus paths), on bench/policies/five-rules.json over varied nested memories.
// The machine is shared and noisy: the engines are measured in the same run, in alternating
// rounds (their order rotating, after a warm-up round), and the figures that matter are the
// per-round ratios.
//
// Options (environment): BENCH_ROUNDS (default 7), BENCH_MS per engine per round (400),
// BENCH_MEMORIES (1000).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Engine, type TopLevelCondition } from "json-rules-engine";
import { validatePolicy } from "../src/contracts/validate-policy.ts";
import { compilePolicy, type CompiledPolicy } from "../src/core/compile.ts";
import { evaluateRules, explainEngineResult, type BuiltinFacts, type RuleEvaluation } from "../src/core/evaluate.ts";
import { olderThan, within } from "../src/core/operators.ts";
import type { PolicyDocument } from "../src/core/policy.ts";
import type { JsonObject, LifecycleState } from "../src/core/types.ts";
import { seededRandom } from "../src/core/random.ts";
import { median } from "./stats.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MS = Number(process.env.BENCH_MS ?? 400);
const MEMORIES = Number(process.env.BENCH_MEMORIES ?? 1000);
const FILE = fileURLToPath(new URL("policies/five-rules.json", import.meta.url));
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;

const random = seededRandom(42);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

/** One object's memory as an inference worker would report it: nested, with some noise. */
function memory(): JsonObject {
  return {
    queue: {
      name: "inference-eu-1",
      pending: { count: random() < 0.3 ? int(1, 40) : 0, oldestAt: iso(-int(0, 30) * MINUTE) },
      scheduled: random() < 0.3 ? { nextAt: iso(int(-10, 10) * MINUTE) } : {},
    },
    jobs: {
      running: random() < 0.3 ? int(1, 4) : 0,
      owners: ["api", "batch", "maintenance"].filter(() => random() < 0.4),
      history: Array.from({ length: 5 }, (_, i) => ({ id: `job-${i}`, ms: int(10, 900), ok: random() < 0.9 })),
    },
    tenant: {
      id: `t-${int(100, 999)}`,
      tier: pick(["standard", "standard", "gold", "platinum"]),
      sla: { p99Ms: pick([250, 500, 1000]) },
    },
    metrics: {
      latency: { p50Ms: int(20, 200), p99Ms: int(100, 1500) },
      samples: Array.from({ length: 3 }, (_, i) => ({ at: iso(-(i * 5 + int(0, 8)) * MINUTE), value: int(0, 100) })),
    },
    activity: { lastRequestAt: iso(-int(0, 60) * MINUTE), requests: int(0, 10_000) },
    storage: { compactedAt: iso(-int(0, 48) * 60 * MINUTE), bytes: int(1e6, 1e9) },
    labels: { region: "eu-west", model: "llama-3-8b", version: "2026.02" },
  };
}

function facts(): BuiltinFacts {
  const state = pick<LifecycleState>(["active", "active", "dormant", "waking"]);
  return {
    memory: memory(),
    state,
    now: NOW,
    trigger: random() < 0.2 ? { kind: "timer", name: "nightly" } : { kind: "facts" },
    changed: ["$.queue.pending.count"],
    idleMs: int(0, 30) * MINUTE,
    stateAgeMs: int(0, 120) * MINUTE,
    substrate: { status: state === "dormant" ? "suspended" : "running", at: NOW - MINUTE },
  };
}

/** json-rules-engine as its README sets it up: default options, Vigil's time operators added. */
function defaultEngine(doc: PolicyDocument, policy: CompiledPolicy) {
  let now = 0;
  const engine = new Engine();
  engine.addOperator("olderThan", (f: unknown, v: unknown) => olderThan(now, f, v));
  engine.addOperator("within", (f: unknown, v: unknown) => within(now, f, v));
  for (const r of doc.rules)
    engine.addRule({ name: r.name, conditions: r.conditions as TopLevelCondition, event: { type: r.event.type } });
  return async (f: BuiltinFacts): Promise<RuleEvaluation> => {
    now = f.now;
    return explainEngineResult(policy, await engine.run(f as unknown as Record<string, unknown>));
  };
}

type Evaluate = (f: BuiltinFacts) => Promise<RuleEvaluation> | RuleEvaluation;

/** Evaluations per second of `evaluate` over the memories, for MS milliseconds. */
async function rate(evaluate: Evaluate, all: BuiltinFacts[], async: boolean): Promise<number> {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MS) {
    for (let i = 0; i < 64; i++) {
      const f = all[n++ % all.length]!;
      if (async) await evaluate(f);
      else evaluate(f);
    }
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

export interface EvaluatorFigures {
  /** Median per-round ratio of the compiled rules (through evaluateRules) to json-rules-engine as Vigil configures it. */
  ratio: number;
}

export async function evaluatorBench(print: (line: string) => void = console.log): Promise<EvaluatorFigures> {
  const doc = (() => {
    const v = validatePolicy(JSON.parse(readFileSync(FILE, "utf8")), "five-rules");
    if (!v.valid) throw new Error(`five-rules.json is invalid: ${JSON.stringify(v.errors)}`);
    return v.policy;
  })();
  const compiled = compilePolicy(doc, "bench");
  const onEngine = compilePolicy(doc, "bench", { engine: "json-rules-engine" });
  if (compiled.engine.name !== "compiled") throw new Error(`five-rules is not compiled: ${compiled.engine.reason}`);
  const all = Array.from({ length: MEMORIES }, facts);

  const engines: { name: string; evaluate: Evaluate; async: boolean }[] = [
    { name: "compiled, evaluateRules", evaluate: (f) => evaluateRules(compiled, f), async: true },
    { name: "compiled, sync closure", evaluate: compiled.evaluator!, async: false },
    { name: "json-rules-engine, Vigil's", evaluate: (f) => evaluateRules(onEngine, f), async: true },
    { name: "json-rules-engine, default", evaluate: defaultEngine(doc, compiled), async: true },
  ];

  // The same answers first: a benchmark of engines that disagree would mean nothing.
  const fired = new Map<string, number>();
  for (const f of all) {
    const results = await Promise.all(engines.map((e) => e.evaluate(f)));
    const texts = results.map((r) => JSON.stringify(r));
    if (texts.some((t) => t !== texts[0])) throw new Error(`the engines disagree on ${JSON.stringify(f)}`);
    for (const x of results[0]!.fired) fired.set(x.rule, (fired.get(x.rule) ?? 0) + 1);
  }
  print(`five-rules over ${MEMORIES} memories; the engines agree on every one. Rules fired per memory:`);
  print(
    `  ${doc.rules.map((r) => `${r.name} ${(((fired.get(r.name) ?? 0) / MEMORIES) * 100).toFixed(0)}%`).join(", ")}`,
  );
  const gcNote = (globalThis as { gc?: unknown }).gc
    ? "a collection before each"
    : "run with --expose-gc to collect before each";
  print(`${ROUNDS} rounds of ${MS} ms per engine after a warm-up round, the order rotating, ${gcNote}\n`);

  // A collection between measurements (with --expose-gc, as `npm run bench:evaluator` runs it),
  // so that no engine pays for the garbage of the one measured before it.
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const rates = engines.map(() => [] as number[]);
  for (let round = -1; round < ROUNDS; round++) {
    for (let k = 0; k < engines.length; k++) {
      const i = (k + Math.max(round, 0)) % engines.length;
      const e = engines[i]!;
      collect();
      const r = await rate(e.evaluate, all, e.async);
      // Round -1 warms the JIT up and is not counted.
      if (round >= 0) rates[i]!.push(r);
    }
  }

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
  print(`${"engine".padEnd(28)} ${"median evals/s".padStart(14)}   per round`);
  engines.forEach((e, i) =>
    print(`${e.name.padEnd(28)} ${fmt(median(rates[i]!)).padStart(14)}   ${rates[i]!.map(fmt).join(" ")}`),
  );
  print("");
  const ratio = (a: number, b: number) => rates[a]!.map((x, r) => x / rates[b]![r]!);
  const show = (label: string, a: number, b: number) => {
    const rs = ratio(a, b);
    print(
      `${label.padEnd(52)} median ${median(rs).toFixed(1).padStart(6)}x   min ${Math.min(...rs).toFixed(1)}x   max ${Math.max(...rs).toFixed(1)}x`,
    );
  };
  show("compiled (evaluateRules) / json-rules-engine, Vigil's", 0, 2);
  show("compiled (evaluateRules) / json-rules-engine, default", 0, 3);
  show("compiled (sync closure) / json-rules-engine, Vigil's", 1, 2);
  show("compiled (sync closure) / json-rules-engine, default", 1, 3);
  print(`goal: compiled >= 20x of json-rules-engine; here ${median(ratio(0, 2)).toFixed(1)}x (median)`);
  return { ratio: median(ratio(0, 2)) };
}

if (import.meta.url === `file://${process.argv[1]}`) await evaluatorBench();
