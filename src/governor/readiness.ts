// The readiness probe's read of the database: answered within READY_TIMEOUT_MS (on the
// governor's clock), so that a probe is answered even when the database stalls (a remote server
// behind a partition, a stuck disk).

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Store } from "../core/store.ts";

/** How long /readyz waits for its read of the database before it says the database does not answer. */
export const READY_TIMEOUT_MS = 2000;

/** Why the database is not fit to serve (it failed or did not answer a read in time), or null. */
export async function databaseNotReady(store: Store, clock: Clock): Promise<string | null> {
  let timer: TimerHandle | null = null;
  const late = new Promise<string>((resolve) => {
    const why = `the database did not answer within ${READY_TIMEOUT_MS} ms`;
    timer = clock.setTimeout(() => resolve(why), READY_TIMEOUT_MS);
  });
  const read = store.getObject("\u0000readyz").then(
    () => null,
    () => "the database does not answer",
  );
  try {
    return await Promise.race([read, late]);
  } finally {
    if (timer) clock.clearTimeout(timer);
  }
}
