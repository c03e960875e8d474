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
//
// A request waiting its turn gives it up, without running, when its client goes: its connection
// is reset or closed, or the client half-closes it (a FIN). The server keeps half-closed
// connections for the replies due on them (node-server.ts), so a client that left was seen only
// once its reply was written, after a run of up to 5 s done for no one; one that half-closed and
// still reads gets a 503 with Retry-After. At shutdown (close()) the requests waiting their turn
// are a 503 at once, and so is any that comes after: a run and the three queued behind it
// could take up to 20 s, past the drain's 10 s.

import type { IncomingMessage } from "node:http";
import { incomingOf } from "./fields.ts";
import type { MiddlewareHandler } from "hono";
import { CANDIDATE_DEADLINE_MS } from "../governor/dry-run.ts";
import { SHUTDOWN_RETRY_AFTER, SHUTTING_DOWN } from "./gate.ts";
import { HttpProblem } from "./problem.ts";

/** The most dry runs, replays and validations taken at once (running or waiting their turn), by default. */
export const MAX_DRY_RUNS = 4;

/** How many of the latest runs the time a run takes is reckoned from (for Retry-After). */
const RUNS_MEASURED = 8;

/** A request waiting its turn: `go` starts it, `leave` ends its wait with a problem, its place given up. */
interface Waiter {
  go: () => void;
  leave: (problem: HttpProblem) => void;
}

/** The slots of one app: a request holds one from once its body is in until it is answered. */
export class DryRunSlots {
  /** A request is running (its turn). */
  private busy = false;
  /** Requests waiting their turn, in the order they came. */
  private readonly waiting: Waiter[] = [];
  /** Shutting down: nothing runs that has not begun. */
  private closed = false;
  /** The latest runs' times in ms, each at most a deadline, the newest last (at most RUNS_MEASURED). */
  private readonly runs: number[] = [];

  constructor(
    readonly limit: number = MAX_DRY_RUNS,
    /** The clock a run's time is read on, in ms. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How many requests hold a slot now: the one whose turn it is, and those waiting theirs. */
  get taken(): number {
    return (this.busy ? 1 : 0) + this.waiting.length;
  }

  /**
   * Seconds a request turned away is asked to wait: the work ahead of it, each request holding a
   * slot reckoned at the mean time of the latest runs (each counted at most its 5 s deadline),
   * at least 1 (with 4 slots, at most 20).
   */
  retryAfter(): number {
    const mean = this.runs.length === 0 ? 0 : this.runs.reduce((a, b) => a + b, 0) / this.runs.length;
    return Math.max(1, Math.ceil((this.taken * mean) / 1000));
  }

  /** Shutting down: the requests waiting their turn are a 503 now, and so is any that comes; the one running finishes. */
  close(): void {
    this.closed = true;
    // Each leaves the list as it is answered.
    while (this.waiting.length > 0) this.waiting[0]!.leave(shuttingDown());
  }

  /** The route's middleware (after auth and the body limit): the rest of the request runs in a slot, in its turn, or is a 503. */
  readonly slot: MiddlewareHandler = async (c, next) => {
    // Read here, without a slot; the route reads the same bytes again (HonoRequest keeps them).
    await c.req.arrayBuffer();
    if (this.closed) throw shuttingDown();
    if (this.taken >= this.limit)
      throw new HttpProblem(
        "unavailable",
        `${this.taken} dry runs, replays and validations are running or waiting their turn, as many as this server takes at once; try again later`,
        undefined,
        retry(this.retryAfter()),
      );
    // The one before hands its turn over (busy stays set), so none that comes meanwhile runs beside it.
    if (this.busy) await this.turn(c.req.raw.signal, incomingOf(c));
    else this.busy = true;
    const start = this.now();
    try {
      await next();
    } finally {
      this.runs.push(Math.min(Math.max(this.now() - start, 0), CANDIDATE_DEADLINE_MS));
      if (this.runs.length > RUNS_MEASURED) this.runs.shift();
      const after = this.waiting.shift();
      if (after) after.go();
      else this.busy = false;
    }
  };

  /**
   * Waits until the request's turn (the one before it has finished); rejects, the place given
   * up, when the client goes first (`signal` aborted: the connection closed; or the client
   * half-closed it) or the server shuts down.
   */
  private turn(signal: AbortSignal, incoming: IncomingMessage | undefined): Promise<void> {
    const socket = incoming?.socket;
    return new Promise<void>((resolve, reject) => {
      const gone = () => waiter.leave(new HttpProblem("unavailable", CLIENT_LEFT, undefined, retry(this.retryAfter())));
      const done = () => {
        signal.removeEventListener("abort", gone);
        socket?.off("end", gone).off("close", gone);
      };
      const waiter: Waiter = {
        go: () => {
          done();
          resolve();
        },
        leave: (problem) => {
          const at = this.waiting.indexOf(waiter);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          done();
          reject(problem);
        },
      };
      this.waiting.push(waiter);
      if (signal.aborted || socket?.readableEnded || socket?.destroyed) return gone();
      signal.addEventListener("abort", gone);
      socket?.once("end", gone).once("close", gone);
    });
  }
}

/** The 503s of a route that takes a slot, as its API document says them. */
export const SLOTS_UNAVAILABLE = `as many dry runs, replays and validations as the server takes at once (${MAX_DRY_RUNS}) are running or waiting their turn (\`Retry-After\`); the client closed its end of the connection while the request waited its turn; or the server is shutting down`;

/** What a request that waited its turn is told when its client half-closed the connection meanwhile. */
export const CLIENT_LEFT =
  "the client closed its end of the connection while this dry run, replay or validation waited its turn, which it gave up: nothing ran; send it again and keep the connection open";

const retry = (seconds: number | string) => ({ "retry-after": String(seconds) });

/** What a request that has not begun its run is told at shutdown, as the drain gate tells those that come (gate.ts). */
const shuttingDown = () =>
  new HttpProblem("unavailable", SHUTTING_DOWN, undefined, { ...retry(SHUTDOWN_RETRY_AFTER), connection: "close" });
