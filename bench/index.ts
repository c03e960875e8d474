// `npm run bench`: every figure of the efficiency goals but the object-count ones (those are
// `npm run bench:scale`, which takes minutes), each measured against a baseline in the same
// run and printed next to its goal, then all of them together in one table.
//   1. POST facts against a bare hono handler (facts.ts), and the bytes a decision takes;
//   2. the compiled evaluator against json-rules-engine (evaluator.ts);
//   3. timers at scale (timers.ts).
// Run it on a machine doing nothing else if you can: the ratios hold up to noise, the
// absolute numbers do not.

import { evaluatorBench } from "./evaluator.ts";
import { factsBench } from "./facts.ts";
import { timersBench } from "./timers.ts";

const section = (title: string) => console.log(`\n== ${title} ${"=".repeat(Math.max(0, 86 - title.length))}\n`);

section("POST /v1/objects/{id}/facts (facts.ts)");
const facts = await factsBench();
section("the compiled evaluator (evaluator.ts)");
const evaluator = await evaluatorBench();
section("timers at scale (timers.ts)");
// The earlier sections' garbage (json-rules-engine's, the evaluator's) is collected first, so
// that the burst, measured in this same process, does not pay for it.
(globalThis as { gc?: () => void }).gc?.();
const timers = await timersBench();

const rows: [string, string, string, boolean][] = [
  ...facts.workloads.flatMap((w): [string, string, string, boolean][] => [
    [`facts, ${w.name}, full reply`, `${w.full.toFixed(2)}x`, ">= 0.50x", w.full >= 0.5],
    [`facts, ${w.name}, return=minimal`, `${w.minimal.toFixed(2)}x`, ">= 0.50x", w.minimal >= 0.5],
  ]),
  ["bytes per stored decision", `${facts.decisionBytes.toFixed(0)} B`, "<= 400 B", facts.decisionBytes <= 400],
  ["compiled evaluator / json-rules-engine", `${evaluator.ratio.toFixed(1)}x`, ">= 20x", evaluator.ratio >= 20],
  ["100,000 timers due in one second", `${timers.burstSeconds.toFixed(2)} s`, "<= 10 s", timers.burstSeconds <= 10],
  ["one timer's lag, p99, 100,000 pending", `${timers.lagP99Ms.toFixed(0)} ms`, "< 50 ms", timers.lagP99Ms < 50],
];
section("summary");
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`${"figure".padEnd(width)}  ${"here".padStart(10)}  ${"goal".padEnd(9)}  met`);
for (const [name, value, goal, met] of rows)
  console.log(`${name.padEnd(width)}  ${value.padStart(10)}  ${goal.padEnd(9)}  ${met ? "yes" : "NO"}`);
console.log("\nObject-count figures (1,000,000 objects): npm run bench:scale");
