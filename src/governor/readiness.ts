// The readiness probe's read of the database, and the scrape's count of timers: answered within
// READY_TIMEOUT_MS (on the governor's clock), so that a probe or a scrape is answered even when
// the database stalls (a remote server behind a partition, a stuck disk).

import type { Clock } from "../core/clock.ts";
import type { Store } from "../core/store.ts";
import { answerWithin } from "../timers/within.ts";

/** How long /readyz waits for its read of the database before it says the database does not answer. */
export const READY_TIMEOUT_MS = 2000;

/** Why the database is not fit to serve (it failed or did not answer a read in time), or null. */
export function databaseNotReady(store: Store, clock: Clock): Promise<string | null> {
  const read = store.getObject("\u0000readyz").then(
    () => null,
    () => "the database does not answer",
  );
  return answerWithin(clock, READY_TIMEOUT_MS, read, `the database did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** How many timers are pending; null when the database failed or did not answer in time. */
export function timersPending(store: Store, clock: Clock): Promise<number | null> {
  const count = store.countTimers().catch(() => null);
  return answerWithin(clock, READY_TIMEOUT_MS, count, null);
}
