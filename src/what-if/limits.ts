// The limits one replay of a candidate policy runs under, and the budget that holds it to
// them. A candidate comes from any `read` token: without these, one request could keep the
// server busy (or its event loop blocked) for as long as it liked.

import { nextTurn } from "../core/concurrency.ts";
import { invalid } from "../core/errors.ts";
import { CANDIDATE_DEADLINE_MS, Deadline } from "../governor/dry-run.ts";

export interface ReplayLimits {
  /** Wall-clock ms one replay may take; past it, an `unavailable` error (a 503). */
  deadlineMs: number;
  /** Evaluations of the candidate one replay may make; past it, an `invalid` error (a 422). */
  maxEvaluations: number;
  /** Rows kept in each list of the report (`differences`, `skipped`); the counts stay whole. */
  maxRows: number;
  /** The wall clock the deadline is read on (epoch ms). */
  now: () => number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = {
  deadlineMs: CANDIDATE_DEADLINE_MS,
  maxEvaluations: 100_000,
  maxRows: 1_000,
  now: () => Date.now(),
};

/** Steps between two yields to the event loop. */
const YIELD_EVERY = 64;

/** One replay's spending: evaluations counted as they happen, and the deadline. */
export class ReplayBudget {
  evaluations = 0;
  private steps = 0;
  private readonly deadline: Deadline;

  constructor(readonly limits: ReplayLimits) {
    this.deadline = new Deadline("the replay", limits.deadlineMs, limits.now);
  }

  /** Throws once the cap on evaluations or the deadline is passed. */
  check(): void {
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
    if (++this.steps % YIELD_EVERY === 0) await nextTurn();
  }
}
