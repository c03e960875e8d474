// How many dry runs, replays and policy validations (the computations a `read` token may ask for)
// a server takes at once, and how they run. Each parses a body, checks a candidate and evaluates
// it (up to the 5 s of a candidate's deadline): without a bound, fifty at once held the facts,
// the write path, for most of a second. A request takes its slot once its body is in, as every
// route reads its body up to the body limit, without a slot: one that trickled its body in held a
// slot meanwhile, and four such held every slot for up to the request timeout. Past the bound a
// 503 with Retry-After, nothing run.
//
// The requests in the slots run one at a time, in the order they came (the next waits its turn):
// a run yields to the event loop as it goes, and four replays of 1.6 s side by side took 6.4 s
// each of the wall clock their deadlines are read on, so all four were a 503. A run's deadline
// starts with its turn; the wait is bounded by the slots ahead of it (3 by default, each at most
// its 5 s).

import type { MiddlewareHandler } from "hono";
import { HttpProblem } from "./problem.ts";

/** The most dry runs, replays and validations taken at once (running or waiting their turn), by default. */
export const MAX_DRY_RUNS = 4;
/** Seconds a request turned away for want of a slot is asked to wait. */
export const DRY_RUNS_RETRY_AFTER = "1";

/** The slots of one app: a request holds one from once its body is in until it is answered. */
export class DryRunSlots {
  /** Requests holding a slot: the one whose turn it is, and those waiting theirs. */
  private running = 0;
  /** Settles when the last request to take a slot has had its turn. */
  private last: Promise<void> = Promise.resolve();

  constructor(readonly limit: number = MAX_DRY_RUNS) {}

  /** How many requests hold a slot now. */
  get taken(): number {
    return this.running;
  }

  /** The route's middleware (after auth and the body limit): the rest of the request runs in a slot, in its turn, or is a 503. */
  readonly slot: MiddlewareHandler = async (c, next) => {
    // Read here, without a slot; the route reads the same bytes again (HonoRequest keeps them).
    await c.req.arrayBuffer();
    if (this.running >= this.limit)
      throw new HttpProblem(
        "unavailable",
        `${this.running} dry runs, replays and validations are running or waiting their turn, as many as this server takes at once; try again later`,
        undefined,
        { "retry-after": DRY_RUNS_RETRY_AFTER },
      );
    this.running++;
    const before = this.last;
    let done!: () => void;
    this.last = new Promise<void>((resolve) => (done = resolve));
    try {
      await before;
      await next();
    } finally {
      this.running--;
      done();
    }
  };
}
