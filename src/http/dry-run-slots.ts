// How many dry runs, replays and policy validations (the computations a `read` token may ask for)
// run at once. Each parses a body, checks a candidate and evaluates it (up to the 5 s of a
// candidate's deadline): without a bound, fifty at once held the facts, the write path, for most
// of a second. A request takes its slot once its body is in, as every route reads its body up to
// the body limit, without a slot: one that trickled its body in held a slot meanwhile, and four
// such held every slot for up to the request timeout. Past the bound a 503 with Retry-After,
// nothing run.

import type { MiddlewareHandler } from "hono";
import { HttpProblem } from "./problem.ts";

/** The most dry runs, replays and validations running at once, by default. */
export const MAX_DRY_RUNS = 4;
/** Seconds a request turned away for want of a slot is asked to wait. */
export const DRY_RUNS_RETRY_AFTER = "1";

/** The slots of one app: a request holds one from once its body is in until it is answered. */
export class DryRunSlots {
  private running = 0;

  constructor(readonly limit: number = MAX_DRY_RUNS) {}

  /** The route's middleware (after auth and the body limit): the rest of the request runs in a slot, or is a 503. */
  readonly slot: MiddlewareHandler = async (c, next) => {
    // Read here, without a slot; the route reads the same bytes again (HonoRequest keeps them).
    await c.req.arrayBuffer();
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
