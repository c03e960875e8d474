// A wait bounded on the injected clock: a round trip to a remote database may go unanswered for
// 15 s, longer than a probe, a scrape or the lease can wait, and a driver's observation for as
// long as its API retries. The work itself is left to end when it may.

import type { Clock, TimerHandle } from "../core/clock.ts";

/** What `work` answered, or `late` when it has not answered within `ms`. */
export async function answerWithin<T, L>(clock: Clock, ms: number, work: Promise<T>, late: L): Promise<T | L> {
  let timer: TimerHandle | null = null;
  const bound = new Promise<L>((resolve) => (timer = clock.setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([work, bound]);
  } finally {
    if (timer) clock.clearTimeout(timer);
  }
}
