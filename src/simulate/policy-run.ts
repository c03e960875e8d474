// One policy over a workload, run by the same governor code as the server on a virtual clock
// (the what-if sandbox), with the simulated substrate taking the given latencies. The run
// follows every object's state from the governor's own events: a decision's move, and a
// driver's confirmation (waking -> active, sleeping -> dormant).

import { VigilError } from "../core/errors.ts";
import { confirmedState } from "../core/lifecycle.ts";
import type { Decision } from "../core/types.ts";
import type { PolicyRegistry } from "../governor/policy-registry.ts";
import { DEFAULT_LIMITS } from "../core/memory-limits.ts";
import { LATEST_INSTANT_MS } from "../core/instants.ts";
import { createSandbox, RECORDED_LIMITS, type Sandbox } from "../what-if/sandbox.ts";
import { earliestCreation, SimulationError, type Latencies, type Trace, type Workload } from "./model.ts";
import { Timeline } from "./timeline.ts";

/** A decision as the simulation keeps it: what a comparison with the server looks at. */
export interface DecisionSummary {
  objectId: string;
  at: number;
  trigger: Decision["trigger"];
  outcome: Decision["outcome"];
  fromState: Decision["fromState"];
  toState: Decision["toState"];
}

/** Thrown from the sandbox's pace to stop the clock once every object is dormant. */
const SETTLED = Symbol("settled");

export class PolicyRun {
  readonly timeline = new Timeline();
  readonly decisions: DecisionSummary[] = [];
  /** True while the run looks for the moment every object is dormant again. */
  private settling = false;

  private constructor(
    /** Where the run plays: read by tests. */
    readonly sandbox: Sandbox,
    private readonly policy: NonNullable<Trace["policy"]>,
    private readonly workload: Workload,
    private readonly latencies: Latencies,
  ) {}

  /** A sandbox for `policyName`, at the workload's start. */
  static async create(
    registry: PolicyRegistry,
    policyName: string,
    workload: Workload,
    latencies: Latencies,
  ): Promise<PolicyRun> {
    const info = registry.get(policyName);
    if (!info) throw new SimulationError(`no policy "${policyName}"`);
    const start = earliestCreation(workload);
    let run: PolicyRun | null = null;
    const pace = async () => {
      if (run?.settling && run.timeline.allDormant) throw SETTLED;
    };
    const limits = workload.recorded ? RECORDED_LIMITS : DEFAULT_LIMITS;
    // No history kept: the run reads the governor's events, and a store keeping a month of an
    // object's journal and decisions grew by every fact (and checked each against them all).
    const sandbox = await createSandbox(registry, start, [], pace, limits, false);
    run = new PolicyRun(sandbox, { name: info.name, version: info.version, hash: info.hash }, workload, latencies);
    run.follow();
    return run;
  }

  /** Keeps the timeline in step with the governor: its decisions and its confirmations. */
  private follow(): void {
    const { events } = this.sandbox.governor;
    events.on("decision:recorded", (d) => {
      // An observation moves the state before the evaluation it starts: catch up with it.
      this.timeline.move(d.objectId, d.fromState, d.at);
      this.timeline.move(d.objectId, d.toState, d.at);
      const { objectId, at, trigger, outcome, fromState, toState } = d;
      this.decisions.push({ objectId, at, trigger, outcome, fromState, toState });
    });
    events.on("action:confirmed", (action) => {
      const state = this.timeline.state(action.objectId);
      const next = state && confirmedState(state, action.kind);
      if (next) this.timeline.move(action.objectId, next, this.sandbox.clock.now());
    });
  }

  /**
   * Creates the objects and posts the facts at their times, the policy's timers firing in
   * between (facts up to `until` when given). Then, without `until`, runs on until every
   * object is dormant again, at most `tailMs` after the last fact. Returns that moment.
   */
  async play(until: number | null, tailMs: number): Promise<number> {
    const { sandbox, workload } = this;
    const config = { startMs: this.latencies.startMs, resumeMs: this.latencies.resumeMs };
    const creations = [...workload.objects].sort((a, b) => a.createdAt - b.createdAt);
    let c = 0;
    const createUpTo = async (at: number) => {
      for (; c < creations.length && creations[c]!.createdAt <= at; c++) {
        const o = creations[c]!;
        await sandbox.advanceTo(o.createdAt);
        this.timeline.create(o.id, o.createdAt);
        try {
          await sandbox.governor.putObject(o.id, {
            policy: this.policy.name,
            memory: o.memory,
            substrate: { driver: "simulated", config },
          });
        } catch (e) {
          // The creation's evaluation failed (a rule that throws on the memory it starts with):
          // said as a refused fact is, naming the object and where it comes from.
          if (!(e instanceof VigilError)) throw e;
          const first = workload.facts.find((f) => f.objectId === o.id);
          const where = first ? `${first.source}: ` : "";
          throw new SimulationError(`${where}${o.id} cannot be created under ${this.policy.name}: ${refusal(e)}`);
        }
        await sandbox.advanceTo(o.createdAt);
      }
    };
    let last = sandbox.clock.now();
    for (const f of workload.facts) {
      if (until !== null && f.at > until) break;
      await createUpTo(f.at);
      await sandbox.advanceTo(f.at);
      this.timeline.arrive(f.objectId, f.at);
      try {
        await sandbox.governor.postFacts(f.objectId, f.facts);
      } catch (e) {
        if (!(e instanceof VigilError)) throw e;
        throw new SimulationError(`${f.source}: refused under ${this.policy.name}: ${refusal(e)}`);
      }
      // The next advance lets this arrival's work settle before it moves the clock.
      last = f.at;
    }
    // Objects created after the last fact (recorded ones with no facts since) are created too.
    await createUpTo(until ?? Infinity);
    if (until !== null) return until;
    // Never past the last instant Vigil writes (9999-12-31T23:59:59.999Z): a window's end there
    // would be printed in year 10000, which no reader of the figures takes back.
    return this.settle(Math.min(Math.max(last, sandbox.clock.now()) + tailMs, LATEST_INSTANT_MS));
  }

  /** Runs until every object is dormant, or `cap`; returns the time it stopped at. */
  private async settle(cap: number): Promise<number> {
    if (this.timeline.allDormant) return this.sandbox.clock.now();
    this.settling = true;
    try {
      await this.sandbox.advanceTo(cap);
    } catch (e) {
      if (e !== SETTLED) throw e;
    } finally {
      this.settling = false;
    }
    return this.sandbox.clock.now();
  }

  /** Runs to `end`, checks the timeline against the governor, and closes the sandbox. */
  async finish(end: number): Promise<Trace> {
    try {
      await this.sandbox.advanceTo(end);
      for (const o of this.workload.objects) {
        const actual = (await this.sandbox.governor.getObject(o.id))?.state;
        const followed = this.timeline.state(o.id);
        if (actual !== followed)
          throw new Error(`simulation of ${o.id} under ${this.policy.name} ends ${followed}, the governor ${actual}`);
      }
    } finally {
      await this.sandbox.close();
    }
    return {
      name: this.policy.name,
      kind: "policy",
      policy: this.policy,
      changes: this.timeline.changes,
      arrivals: this.timeline.arrivals,
    };
  }

  /** Closes the sandbox without finishing (on an error elsewhere). */
  close(): Promise<void> {
    return this.sandbox.close();
  }
}

/** A governor's refusal as one line: its message, then each problem's path and words. */
function refusal(e: VigilError): string {
  return `${e.message}${e.problems.map((p) => `; ${p.path}: ${p.message}`).join("")}`;
}
