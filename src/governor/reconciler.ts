// Periodic reconciliation on the injected clock: every interval, the governor compares each
// object's governed state with what its substrate reports (see Governor.reconcile).

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Governor } from "./governor.ts";

export class Reconciler {
  private handle: TimerHandle | null = null;

  constructor(
    private readonly governor: Governor,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    const tick = () => {
      this.handle = this.clock.setTimeout(() => {
        void this.governor
          .reconcile()
          .catch((e: unknown) => this.onError(e as Error))
          .finally(() => {
            if (this.handle) tick();
          });
      }, this.intervalMs);
    };
    tick();
  }

  stop(): void {
    if (this.handle) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
