// Jittered exponential backoff, the one formula both retry loops use (the outbox dispatcher's
// and the Fly client's).

export interface Backoff {
  /** The first step, in ms. */
  baseMs: number;
  /** The largest step, in ms. */
  maxMs: number;
}

/**
 * The wait after try `attempt` (1-based): the step doubles from `baseMs` up to `maxMs`, and
 * the wait is a random point between half and all of it ("equal jitter"), so that clients
 * that failed together do not retry together.
 */
export function backoffMs(attempt: number, backoff: Backoff, random: () => number): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
