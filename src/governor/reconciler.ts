// Periodic reconciliation on the injected clock: every interval, each object's governed state
// is compared with what its substrate reports (see SubstrateSync.reconcile).

import type { Clock } from "../core/clock.ts";
import { every } from "../timers/every.ts";

export class Reconciler {
  constructor(
    /** One pass; `signal` aborts when the reconciler stops, and the pass observes no further object. */
    private readonly reconcile: (signal: AbortSignal) => Promise<unknown>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    const stopping = new AbortController();
    const stop = every(this.clock, this.intervalMs, () => this.reconcile(stopping.signal), this.onError);
    this.stop = () => {
      stopping.abort();
      return stop();
    };
  }

  /**
   * Stops the periodic runs, and resolves once a run under way has finished (at once before
   * start): it is told to stop, so it observes no further object and the observations in flight
   * are cut (their drivers' signals abort): a substrate that does not answer holds up no shutdown.
   */
  stop: () => Promise<void> = () => Promise.resolve();
}
