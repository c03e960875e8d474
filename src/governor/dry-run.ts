// Dry runs: what the object's policy, or a candidate policy, would decide now or at a given
// time, for given facts or none. Nothing is stored or dispatched.
//
// A candidate comes from any `read` token, so it is held to more than a policy file: no
// schedule that ticks more than once a minute, and a deadline on the work it causes. The
// candidate checks and the deadline are shared with replay (what-if/replay.ts).

import { CronExpressionParser } from "cron-parser";
import { MAX_SCHEDULES, scheduleSchema } from "../contracts/policy.ts";
import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import type { Arrival } from "../core/decide.ts";
import { invalid, notFound, prefixProblems, unavailable, type Problem } from "../core/errors.ts";
import { refuseAbove, WHAT_IF_MAX_WEIGHT } from "../core/evaluation-weight.ts";
import { isPlainObject } from "../core/json.ts";
import { checkObjectId } from "../core/object.ts";
import { nextTurn } from "../core/concurrency.ts";
import { nextTick, zoneName, type Schedule } from "../core/schedule.ts";
import type { Decision } from "../core/types.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { ObjectTable } from "./object-table.ts";
import { loadCandidate, type LoadedPolicy } from "./policy-registry.ts";
import type { DryRunInput } from "./services.ts";

/** How long a dry run or a replay of a candidate may take, wall-clock, by default. */
export const CANDIDATE_DEADLINE_MS = 5_000;

export interface DryRunDeps {
  table: ObjectTable;
  arrival: ArrivalPipeline;
  /** The object's policy; throws PolicyNotLoaded when it is not loaded. */
  policy: (name: string) => CompiledPolicy;
  clock: Clock;
  /** The deadline of one dry run in ms (default CANDIDATE_DEADLINE_MS), on `clock`. */
  deadlineMs?: number;
}

/** With `facts`, a `facts` arrival at `at` (default now); without, a `manual` evaluation. */
export async function dryRun(d: DryRunDeps, id: string, input: DryRunInput): Promise<Decision> {
  const deadline = new Deadline("the dry run", d.deadlineMs ?? CANDIDATE_DEADLINE_MS, () => d.clock.now());
  checkObjectId(id);
  const object = await d.table.load(id);
  if (!object) throw notFound(`object "${id}"`);
  let policy: CompiledPolicy;
  if (input.policy !== undefined) {
    // Validation asks for the ticks from now (the wall clock's); the evaluation arms them from
    // its time, which the request may set years away.
    await settleSchedules(input.policy, Date.now(), () => deadline.check());
    policy = loadCandidatePolicy(input.policy, d.clock.now()).compiled;
    await settleSchedules(input.policy, input.at ?? d.clock.now(), () => deadline.check());
    deadline.check();
  } else policy = d.policy(object.policy);
  // The evaluation cannot be interrupted: one that would compare too much is refused first.
  policy = { ...policy, weigh: refuseAbove(WHAT_IF_MAX_WEIGHT) };
  const at = input.at ?? d.clock.now();
  const arrival: Arrival = input.facts
    ? { trigger: { kind: "facts" }, at, patch: input.facts }
    : { trigger: { kind: "manual" }, at };
  const { decision } = await d.arrival.decide(policy, object, arrival, true, input.policy !== undefined);
  // One evaluation cannot be interrupted; one that outlived the deadline gets no answer, so
  // that what a candidate may cost does not depend on how busy the server happened to be.
  deadline.check();
  return decision;
}

/**
 * Works out the next tick from `from` of each schedule a policy document names, a turn of the
 * event loop apart, calling `check` (a deadline's) before each. A tick years away (the fifth
 * Monday of February: 2044) costs cron-parser tens of milliseconds a walk; validation and the
 * timers an evaluation arms ask for every schedule's at once, so a document of 32 such, sent by
 * any `read` token, held the event loop for seconds, and three at once cost the server its
 * lease. nextTick remembers each answer, for any moment from `from` until the tick, so the
 * validation and evaluation that follow (from `from` or later) find them. Schedules validation
 * would refuse, and a document with more than it allows, are left to it.
 */
export async function settleSchedules(doc: unknown, from: number, check: () => void): Promise<void> {
  const schedules = isPlainObject(doc) && Array.isArray(doc.schedules) ? doc.schedules : [];
  if (schedules.length > MAX_SCHEDULES) return;
  for (const s of schedules) {
    const schedule = scheduleSchema.safeParse(s);
    if (!schedule.success) continue;
    await nextTurn();
    check();
    nextTick(schedule.data, from);
  }
}

/**
 * Validates and compiles a candidate policy document, then holds it to the limits of a
 * candidate. Throws an `invalid` VigilError with `$.policy` paths.
 */
export function loadCandidatePolicy(doc: unknown, now: number): LoadedPolicy {
  const loaded = loadCandidate(doc, now);
  if (!loaded.ok) throw invalid("the candidate policy is invalid", prefixProblems(loaded.error.errors, "$.policy"));
  const problems = subMinuteSchedules(loaded.policy.compiled.schedules);
  if (problems.length > 0) throw invalid("the candidate policy is invalid", prefixProblems(problems, "$.policy"));
  return loaded.policy;
}

/**
 * Schedules (in the document's order) that tick more than once a minute (a 6-field cron whose seconds field lists more
 * than one second). Policy files may have them; a candidate may not, for each tick is an
 * evaluation, and a replay of a month at one a second is millions of them.
 */
export function subMinuteSchedules(schedules: readonly Schedule[]): Problem[] {
  const problems: Problem[] = [];
  schedules.forEach((s, i) => {
    let seconds: unknown[];
    try {
      seconds = CronExpressionParser.parse(s.cron, { tz: zoneName(s.timezone ?? "UTC") }).fields.second.values;
    } catch (e) {
      // Validation rejects these first; should one get through, it is the candidate's fault.
      problems.push({ path: `$.schedules[${i}].cron`, message: `not a cron expression: ${(e as Error).message}` });
      return;
    }
    if (seconds.length > 1)
      problems.push({
        path: `$.schedules[${i}].cron`,
        message: `schedule "${s.name}" ("${s.cron}") fires ${seconds.length} times a minute; a candidate policy may fire at most once a minute`,
      });
  });
  return problems;
}

/**
 * A wall-clock deadline, checked between steps: `check` throws an `unavailable` VigilError
 * (a 503) naming the limit once `ms` have passed since the deadline was made.
 */
export class Deadline {
  private readonly started: number;

  constructor(
    /** What runs under it, for the message: "the replay". */
    private readonly what: string,
    readonly ms: number,
    private readonly now: () => number,
  ) {
    this.started = now();
  }

  get elapsed(): number {
    return this.now() - this.started;
  }

  check(progress = ""): void {
    const elapsed = this.elapsed;
    if (elapsed > this.ms)
      throw unavailable(
        `${this.what} did not finish within its deadline of ${this.ms} ms (${elapsed} ms so far${progress}); ` +
          "a candidate that needs longer cannot be run here",
      );
  }
}
