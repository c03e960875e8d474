// A task run every `ms` on the injected clock, each run starting `ms` after the previous one
// finished (a slow run never overlaps the next). Errors go to `onError`; the loop goes on. `ms`
// may be a function, asked before each wait: the first, and each after a run, may differ.

import type { Clock, TimerHandle } from "../core/clock.ts";

/**
 * Starts the loop. The function returned stops it, and resolves once a run under way has
 * finished, so that what the task uses (the store, the governor) can be closed after it.
 */
export function every(
  clock: Clock,
  ms: number | (() => number),
  task: () => Promise<unknown>,
  onError: (e: Error) => void,
): () => Promise<void> {
  let handle: TimerHandle | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const arm = () => {
    handle = clock.setTimeout(
      () => {
        handle = null;
        running = task()
          .then(
            () => {},
            (e: unknown) => onError(e as Error),
          )
          .finally(() => {
            if (!stopped) arm();
          });
      },
      typeof ms === "number" ? ms : ms(),
    );
  };
  arm();
  return () => {
    stopped = true;
    if (handle) clock.clearTimeout(handle);
    return running;
  };
}
