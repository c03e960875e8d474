// Periodic reconciliation on the injected clock: every interval, the governor compares each
// object's governed state with what its substrate reports (see Governor.reconcile).

import type { Clock } from "../core/clock.ts";
import { every } from "../timers/every.ts";
import type { Governor } from "./governor.ts";

export class Reconciler {
  constructor(
    private readonly governor: Governor,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    this.stop = every(this.clock, this.intervalMs, () => this.governor.reconcile(), this.onError);
  }

  /** Stops the periodic runs (a no-op before start). */
  stop: () => void = () => {};
}
