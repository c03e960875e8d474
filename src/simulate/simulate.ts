// A simulation: the workload through each policy (and the autostop baseline) over one window,
// and the figures of each. Every row is held to the same window so that their seconds compare.
//
// The window starts when the first object is created. With `until` it ends there; otherwise
// when every object of every row is dormant again after the last fact, at most TAIL_CAP_MS
// after it (a policy that keeps an object awake for good would never end) and never past
// 9999-12-31T23:59:59.999Z, the last instant a traffic line or --until may name.

import type { PolicyRegistry } from "../governor/policy-registry.ts";
import { runAutostop, settledAt } from "./autostop.ts";
import { earliestCreation, SimulationError, TAIL_CAP_MS, type Latencies, type Trace, type Workload } from "./model.ts";
import { LATEST_INSTANT_MS } from "../core/instants.ts";
import { PolicyRun, type DecisionSummary } from "./policy-run.ts";
import { figuresOf, type RowFigures } from "./stats.ts";

export interface SimulateOptions {
  registry: PolicyRegistry;
  /** Policy names, the first one first; a name given twice runs once. */
  policies: string[];
  workload: Workload;
  latencies: Latencies;
  /** The baseline's quiet time; null leaves the baseline out. */
  autostopMs: number | null;
  /**
   * The quiet time as the user wrote it (`P1W`), for the baseline's name, `autostop(P1W)`, and
   * the JSON; default: autostopMs in ISO 8601, as {@link isoDuration} writes it (`P7D`).
   */
  autostopAfter?: string;
  /** The window's end (epoch ms); null ends it once every object is dormant again. */
  until: number | null;
  /** The longest the window runs past the last fact (default 24 h). */
  tailMs?: number;
}

export interface SimulationResult {
  from: number;
  to: number;
  objects: number;
  /** Facts in the window; `ignored` arrived after `until`. */
  facts: number;
  ignored: number;
  latencies: Latencies;
  autostopMs: number | null;
  /** The quiet time as written (see SimulateOptions), null without the baseline. */
  autostopAfter: string | null;
  /** The figures of each row: the policies in order, then the baseline. */
  rows: RowFigures[];
  /** What each row did: for the report. */
  traces: Trace[];
  /** Every decision each policy took, by policy name. */
  decisions: Map<string, DecisionSummary[]>;
}

/** The name of the baseline's row: `autostop(PT5M)`. */
export const autostopName = (after: string) => `autostop(${after})`;

export async function simulate(o: SimulateOptions): Promise<SimulationResult> {
  const { workload, until } = o;
  const autostopAfter = o.autostopMs === null ? null : (o.autostopAfter ?? isoDuration(o.autostopMs));
  if (workload.objects.length === 0) throw new SimulationError("no objects to simulate");
  const from = earliestCreation(workload);
  if (until !== null && until < from)
    throw new SimulationError(`--until ${new Date(until).toISOString()} is before the first object's creation`);
  const facts = until === null ? workload.facts : workload.facts.filter((f) => f.at <= until);
  const inWindow: Workload = { ...workload, facts };
  // The last fact, or a later creation (a recorded object with no facts since).
  // Loops, not Math.max(...): a spread of one argument per object overflows the stack past ~120,000.
  let lastFact = facts[facts.length - 1]?.at ?? from;
  for (const x of workload.objects) if (x.createdAt > lastFact) lastFact = x.createdAt;
  const cap = Math.min(lastFact + (o.tailMs ?? TAIL_CAP_MS), LATEST_INSTANT_MS);

  const runs: PolicyRun[] = [];
  try {
    const settled: number[] = [lastFact];
    for (const name of new Set(o.policies)) {
      const run = await PolicyRun.create(o.registry, name, inWindow, o.latencies);
      runs.push(run);
      settled.push(await run.play(until, o.tailMs ?? TAIL_CAP_MS));
    }
    const baseline =
      o.autostopMs === null
        ? null
        : runAutostop(inWindow, { ...o.latencies, quietMs: o.autostopMs }, autostopName(autostopAfter!));
    if (baseline) settled.push(Math.min(settledAt(baseline), cap));
    const to = until ?? Math.max(...settled);
    const traces: Trace[] = [];
    const decisions = new Map<string, DecisionSummary[]>();
    while (runs.length > 0) {
      const run = runs.shift()!;
      const trace = await run.finish(to);
      traces.push(trace);
      decisions.set(trace.name, run.decisions);
    }
    if (baseline) traces.push(baseline);
    return {
      from,
      to,
      objects: workload.objects.length,
      facts: facts.length,
      ignored: workload.facts.length - facts.length,
      latencies: o.latencies,
      autostopMs: o.autostopMs,
      autostopAfter,
      rows: traces.map((t) => figuresOf(t, to)),
      traces,
      decisions,
    };
  } finally {
    for (const run of runs) await run.close();
  }
}

/** Milliseconds as an ISO 8601 duration (`PT5M`, `PT1H30M`, `PT0.5S`, `P1DT2H`). */
export function isoDuration(ms: number): string {
  if (ms === 0) return "PT0S";
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  const s = (rest - m * 60_000) / 1000;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
}
