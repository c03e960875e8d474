// The limits one replay of a candidate policy runs under, and the budget that holds it to
// them. A candidate comes from any `read` token: without these, one request could keep the
// server busy (or its event loop blocked) for as long as it liked.

import { PAGE_BYTES } from "../contracts/api-replies.ts";
import { nextTurn } from "../core/concurrency.ts";
import { invalid } from "../core/errors.ts";
import { TooCostly, WHAT_IF_MAX_WEIGHT } from "../core/evaluation-weight.ts";
import { tooCostly } from "../governor/arrival.ts";
import { CANDIDATE_DEADLINE_MS, Deadline } from "../governor/dry-run.ts";

export interface ReplayLimits {
  /** Wall-clock ms one replay may take; past it, an `unavailable` error (a 503). */
  deadlineMs: number;
  /** Evaluations of the candidate one replay may make; past it, an `invalid` error (a 422). */
  maxEvaluations: number;
  /** The most one evaluation of the candidate may weigh (core/evaluation-weight.ts); past it, a 422. */
  maxWeight: number;
  /** Rows kept in each list of the report (`differences`, `skipped`); the counts stay whole. */
  maxRows: number;
  /**
   * Bytes of JSON the rows of `differences` hold at most (the first row is kept whatever its
   * size): a row lists the rules each side fired, and a read token's candidate may fire thousands.
   */
  maxBytes: number;
  /** The wall clock the deadline is read on (epoch ms). */
  now: () => number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = {
  deadlineMs: CANDIDATE_DEADLINE_MS,
  maxEvaluations: 100_000,
  maxWeight: WHAT_IF_MAX_WEIGHT,
  maxRows: 1_000,
  maxBytes: PAGE_BYTES,
  now: () => Date.now(),
};

/** Steps between two yields to the event loop, at most. */
const YIELD_EVERY = 64;
/** Wall-clock ms between two yields to the event loop, at most (steps may be heavy). */
const YIELD_AFTER_MS = 10;

/** One replay's spending: evaluations counted as they happen, and the deadline. */
export class ReplayBudget {
  evaluations = 0;
  private steps = 0;
  private yielded: number;
  private readonly deadline: Deadline;
  /** An evaluation refused for its weight: the replay stops with it at the next check. */
  private refused: TooCostly | null = null;

  constructor(readonly limits: ReplayLimits) {
    this.deadline = new Deadline("the replay", limits.deadlineMs, limits.now);
    this.yielded = limits.now();
  }

  /** The candidate's `weigh`: refuses an evaluation heavier than one what-if evaluation may be. */
  weigh(weight: number): void {
    if (weight <= this.limits.maxWeight) return;
    this.refused ??= new TooCostly(weight, this.limits.maxWeight);
    throw this.refused;
  }

  /** Throws once an evaluation was refused, or the cap on evaluations or the deadline is passed. */
  check(): void {
    if (this.refused) throw tooCostly(this.refused, true);
    const max = this.limits.maxEvaluations;
    if (this.evaluations > max)
      throw invalid(`the replay stopped at the cap of ${max} evaluations of the candidate (maxEvaluations)`, [
        {
          path: "$.policy",
          message: `replaying this history needs more than ${max} evaluations of the candidate, the most one replay may make`,
        },
      ]);
    this.deadline.check(`, ${this.evaluations} evaluations`);
  }

  /**
   * Call between steps: checks, and now and then lets the event loop run, so that a replay
   * shares the server with everything else however long its history.
   */
  async step(): Promise<void> {
    this.check();
    const now = this.limits.now();
    if (++this.steps % YIELD_EVERY === 0 || now - this.yielded >= YIELD_AFTER_MS) {
      await nextTurn();
      this.yielded = this.limits.now();
    }
  }
}
