// How many dry runs, replays and policy validations (the computations a `read` token may ask for)
// run at once. Each reads a body of up to the body limit, parses it, checks a candidate and
// evaluates it (up to the 5 s of a candidate's deadline): without a bound, fifty at once held the
// facts, the write path, for most of a second. A request takes its slot before its body is read,
// so that one turned away costs next to nothing: past the bound a 503 with Retry-After, nothing
// read nor run.

import type { MiddlewareHandler } from "hono";
import { HttpProblem } from "./problem.ts";

/** The most dry runs, replays and validations running at once, by default. */
export const MAX_DRY_RUNS = 4;
/** Seconds a request turned away for want of a slot is asked to wait. */
export const DRY_RUNS_RETRY_AFTER = "1";

/** The slots of one app: a request holds one from before its body is read until it is answered. */
export class DryRunSlots {
  private running = 0;

  constructor(readonly limit: number = MAX_DRY_RUNS) {}

  /** The route's middleware (after auth): the rest of the request runs in a slot, or is a 503. */
  readonly slot: MiddlewareHandler = async (_c, next) => {
    if (this.running >= this.limit)
      throw new HttpProblem(
        "unavailable",
        `${this.running} dry runs, replays and validations are running, as many as this server runs at once; try again later`,
        undefined,
        { "retry-after": DRY_RUNS_RETRY_AFTER },
      );
    this.running++;
    try {
      await next();
    } finally {
      this.running--;
    }
  };
}
