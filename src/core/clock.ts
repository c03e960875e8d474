// Time, passed in. Everything that reads the time or waits for it takes a Clock; tests use
// the virtual one (timers/clock.ts) and move time instead of sleeping.

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
