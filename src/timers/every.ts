// A task run every `ms` on the injected clock, each run starting `ms` after the previous one
// finished (a slow run never overlaps the next). Errors go to `onError`; the loop goes on.

import type { Clock, TimerHandle } from "../core/clock.ts";

export function every(clock: Clock, ms: number, task: () => Promise<unknown>, onError: (e: Error) => void): () => void {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const arm = () => {
    handle = clock.setTimeout(() => {
      void task()
        .catch((e: unknown) => onError(e as Error))
        .finally(() => {
          if (!stopped) arm();
        });
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    if (handle) clock.clearTimeout(handle);
  };
}
