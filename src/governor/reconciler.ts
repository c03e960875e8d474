// Periodic reconciliation on the injected clock: every interval, each object's governed state
// is compared with what its substrate reports (see SubstrateSync.reconcile).

import type { Clock } from "../core/clock.ts";
import { every } from "../timers/every.ts";

export class Reconciler {
  constructor(
    private readonly reconcile: () => Promise<unknown>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    this.stop = every(this.clock, this.intervalMs, () => this.reconcile(), this.onError);
  }

  /** Stops the periodic runs, and resolves once a run under way has finished (at once before start). */
  stop: () => Promise<void> = () => Promise.resolve();
}
