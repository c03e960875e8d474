// The durable scheduler. Timers are rows; this keeps exactly one clock timer armed, for the
// earliest due row, and fires due rows in due order through the objects' mailboxes.
//
// Cost: each wake-up is one indexed range read (`due_at <= now`, a page at a time) plus one
// indexed read of the next due time, whatever the number of pending timers; setting a timer
// costs one comparison here (re-arm only when it is earlier than the armed one). Nothing
// scans all timers, so 100,000 pending timers cost their rows and an index, not time per tick.

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { DueTimer, Store } from "../core/store.ts";
import { LATE_AFTER_MS } from "../core/timers.ts";

const PAGE = 256;

export interface SchedulerHooks {
  /** Evaluates the object for the timer; must consume the timer row, even on failure. */
  fire(timer: DueTimer, late: boolean): Promise<void>;
  onError(error: Error, context: string): void;
}

export class Scheduler {
  private armed: { at: number; handle: TimerHandle } | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Set when a due row could not be consumed: wait a little before the next round. */
  private retryAt: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hooks: SchedulerHooks,
  ) {}

  /** Recovery: every timer that fell due while down fires once, late; then the clock is armed. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.run(true);
  }

  stop(): void {
    this.stopped = true;
    if (this.armed) this.clock.clearTimeout(this.armed.handle);
    this.armed = null;
  }

  /** A timer was set for `dueAt`: arm earlier if it is the earliest. */
  notify(dueAt: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.armed && this.armed.at <= dueAt) return;
    this.arm(dueAt);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when no firing round is in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private arm(at: number): void {
    if (this.armed) this.clock.clearTimeout(this.armed.handle);
    const handle = this.clock.setTimeout(
      () => {
        this.armed = null;
        void this.run(false);
      },
      Math.max(0, at - this.clock.now()),
    );
    this.armed = { at, handle };
  }

  private run(recovering: boolean): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.round(recovering).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(recovering: boolean): Promise<void> {
    try {
      do {
        this.again = false;
        await this.fireDue(recovering);
      } while (this.again && !this.stopped);
      if (this.stopped) return;
      const next = await this.store.nextTimer();
      const at = Math.max(next?.dueAt ?? -Infinity, this.retryAt ?? -Infinity);
      this.retryAt = null;
      if (next) this.arm(at);
    } catch (e) {
      this.hooks.onError(e as Error, "scheduler round");
      // Try again shortly rather than lose the timers.
      if (!this.stopped) this.arm(this.clock.now() + 1000);
    }
  }

  private async fireDue(recovering: boolean): Promise<void> {
    // A row that is still there after its firing failed is retried next round, not in a loop.
    const attempted = new Set<string>();
    for (;;) {
      const now = this.clock.now();
      const due = (await this.store.dueTimers(now, PAGE + attempted.size)).filter(
        (t) => !attempted.has(`${t.objectId}\u0000${t.name}\u0000${t.dueAt}`),
      );
      if (due.length === 0 || this.stopped) {
        if (attempted.size > 0 && due.length === 0 && (await this.store.dueTimers(now, 1)).length > 0)
          this.retryAt = now + LATE_AFTER_MS;
        return;
      }
      for (const t of due) attempted.add(`${t.objectId}\u0000${t.name}\u0000${t.dueAt}`);
      // In due order; each object's own mailbox keeps its timers in order too.
      await Promise.all(
        due.map((t) =>
          this.hooks
            .fire(t, recovering || now - t.dueAt > LATE_AFTER_MS)
            .catch((e: unknown) => this.hooks.onError(e as Error, `timer ${t.name} of ${t.objectId}`)),
        ),
      );
    }
  }
}
