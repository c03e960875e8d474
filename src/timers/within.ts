// Waits on the injected clock: one bounded (a round trip to a remote database may go unanswered
// for 15 s, longer than a probe, a scrape or the lease can wait, and a driver's observation for
// as long as its API retries; the work itself is left to end when it may), and a pause that a
// signal cuts short.

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

/**
 * Resolves after `ms` on the given clock (a virtual clock in tests, so nothing really sleeps),
 * or as soon as `signal` aborts.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const wake = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", wake);
      resolve();
    }, ms);
    signal?.addEventListener("abort", wake, { once: true });
  });
}
