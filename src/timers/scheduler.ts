// The durable scheduler. Timers are rows; this keeps exactly one clock timer armed, for the
// earliest due row, and fires due rows in due order through the objects' mailboxes.
//
// Cost: each wake-up is indexed range reads (`due_at <= now`, a page at a time) plus one
// indexed read of what comes next, whatever the number of pending timers; setting a timer
// costs one comparison here (re-arm only when it is earlier than the armed one). Nothing
// scans all timers, so 100,000 pending timers cost their rows and an index, not time per tick.
// The earliest row is read once per due time (see `nextDue`): 100,000 rows of one cron tick
// are sorted when that tick is next, not after every single timer that fires before it.
//
// A burst (many rows due at once) is fired as a stream: up to `concurrency` firings run side
// by side, started in due order, and the next page is read while they run. Firing many objects
// at once is what lets the group committer put hundreds of them in one transaction; the bound
// keeps the evaluations, mailboxes and commits waiting at any moment in check. Pages are large
// because each read of rows that share one due time sorts all of them (the index orders by due
// time only), so the number of reads, not their size, is what a burst pays for.

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { DueTimer, Store } from "../core/store.ts";
import { LATE_AFTER_MS } from "../core/timers.ts";

/** The longest the scheduler sleeps before it looks at the wall clock again. */
export const MAX_SLEEP_MS = 60_000;

export interface SchedulerHooks {
  /** Evaluates the object for the timer; must consume the timer row, even on failure. */
  fire(timer: DueTimer, late: boolean): Promise<void>;
  onError(error: Error, context: string): void;
}

export interface SchedulerOptions {
  /** Due rows read per query (default 8192). */
  page?: number;
  /** Firings in progress at once, at most (default 1024). */
  concurrency?: number;
}

export const DEFAULT_PAGE = 8192;
export const DEFAULT_CONCURRENCY = 1024;

const keyOf = (t: DueTimer) => `${t.objectId}\u0000${t.name}\u0000${t.dueAt}`;

export class Scheduler {
  private armed: { at: number; handle: TimerHandle } | null = null;
  private running: Promise<void> | null = null;
  /** A timer already due was set while a round ran: read again before the round ends. */
  private again = false;
  /** The earliest future timer set while a round ran (the round's last read may miss it). */
  private notified: number | null = null;
  private stopped = false;
  /**
   * Rows whose firing failed and that are still there, and when to try them again: until
   * then rounds pass over them, and the clock is armed for the earlier of that time and the
   * next other row, so that a broken row neither spins nor holds the others back.
   */
  private stuck = new Set<string>();
  private retryAt: number | null = null;
  /**
   * What each row whose firing failed failed with, while it is still there: a retry that fails
   * the same way is not told again. On a full disk (or a database locked by another program)
   * every due timer's firing failed each LATE_AFTER_MS, and each failure was a line of the log:
   * 20 objects on a schedule, 20 error lines a second for as long as it lasted.
   */
  private told = new Map<string, string>();
  /**
   * The due time of the earliest row when it was last read: every row pending then is due at
   * or after it, and every row set since was told through `notify`. Null: read it again.
   */
  private floor: number | null = null;
  private readonly page: number;
  private readonly concurrency: number;
  /** Firings in progress, and the wait for one of them to finish. */
  private firing = 0;
  private freed: (() => void)[] = [];
  /** The most firings that were in progress at once, for tests and the benchmark. */
  peakConcurrency = 0;
  /** When start() began: a row due before it fell due while the server was down. */
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hooks: SchedulerHooks,
    options: SchedulerOptions = {},
  ) {
    this.page = Math.max(1, options.page ?? DEFAULT_PAGE);
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Recovery: every timer that fell due while down fires once, late; then the clock is armed. */
  async start(): Promise<void> {
    this.startedAt = this.clock.now();
    this.stopped = false;
    this.floor = null;
    this.stuck.clear();
    this.told.clear();
    this.retryAt = null;
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
      if (dueAt <= this.clock.now()) this.again = true;
      else if (this.notified === null || dueAt < this.notified) this.notified = dueAt;
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
    // Node's timers count elapsed time, not the wall clock's: after the wall clock steps forward
    // (NTP, a machine resumed from suspend), a row now due would wait out the whole old delay.
    // Waking at least every MAX_SLEEP_MS bounds that; a wake-up with nothing due arms again.
    const handle = this.clock.setTimeout(
      () => {
        this.armed = null;
        void this.run(false);
      },
      Math.min(Math.max(0, at - this.clock.now()), MAX_SLEEP_MS),
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
      // A notify between the round's end and here found it still running and only set a flag.
      const { again, notified } = this;
      this.again = false;
      this.notified = null;
      if (this.stopped) return;
      if (again) void this.run(false);
      else if (notified !== null) this.notify(notified);
    });
    return this.running;
  }

  private async round(recovering: boolean): Promise<void> {
    try {
      for (;;) {
        do {
          this.again = false;
          await this.fireDue(recovering);
        } while (this.again && !this.stopped);
        if (this.stopped) return;
        this.notified = null;
        const next = this.stuck.size > 0 ? await this.nextBesidesStuck() : await this.nextDue();
        // A timer already due was set while the next one was read: fire it in this round.
        if (this.again) continue;
        // One set during that read may not be in it.
        const at = Math.min(next ?? Infinity, this.retryAt ?? Infinity, this.notified ?? Infinity);
        this.notified = null;
        if (Number.isFinite(at)) this.arm(at);
        return;
      }
    } catch (e) {
      this.hooks.onError(e as Error, "scheduler round");
      this.floor = null;
      // Try again shortly rather than lose the timers.
      if (!this.stopped) this.arm(this.clock.now() + 1000);
    }
  }

  /**
   * The due time to arm for: that of the earliest row, or the floor when no row set since the
   * floor was read is earlier. Reading the earliest row sorts every row that shares its due
   * time (100,000 objects of one cron schedule do), so that is read once per due time, not
   * after every round: while the floor is ahead, only the rows before it are read.
   */
  private async nextDue(): Promise<number | null> {
    const floor = this.floor;
    if (floor !== null && Number.isFinite(floor) && this.clock.now() < floor) {
      const [before] = await this.store.dueTimers(floor - 1, 1);
      return before ? before.dueAt : floor;
    }
    const next = await this.store.nextTimer();
    this.floor = next?.dueAt ?? null;
    return next?.dueAt ?? null;
  }

  /** The due time of the earliest row that is not waiting for its retry, or null. */
  private async nextBesidesStuck(): Promise<number | null> {
    // In due order, at most `stuck.size` rows come before it.
    const rows = await this.store.dueTimers(Number.MAX_SAFE_INTEGER, this.stuck.size + 1);
    return rows.find((t) => !this.stuck.has(keyOf(t)))?.dueAt ?? null;
  }

  /**
   * Fires every row due now, in due order, up to `concurrency` at once, reading a page ahead
   * while they run. A row whose firing failed is not tried again until LATE_AFTER_MS on (other
   * rounds pass over it meanwhile), nor is one that is still firing when the next page is read.
   */
  private async fireDue(recovering: boolean): Promise<void> {
    if (this.retryAt !== null && this.clock.now() >= this.retryAt) {
      this.stuck.clear();
      this.retryAt = null;
    }
    const attempted = new Set<string>(this.stuck);
    /** Attempted rows the last read returned, and rows attempted since: what may still be there. */
    let seenAttempted = attempted.size;
    let attemptedSince = 0;
    try {
      while (!this.stopped) {
        const now = this.clock.now();
        const rows = await this.store.dueTimers(now, this.page + seenAttempted + attemptedSince);
        const due: DueTimer[] = [];
        const keys: string[] = [];
        const left: string[] = [];
        for (const t of rows) {
          const key = keyOf(t);
          if (attempted.has(key)) left.push(key);
          else {
            due.push(t);
            keys.push(key);
          }
        }
        seenAttempted = left.length;
        attemptedSince = 0;
        if (due.length === 0) {
          if (this.firing > 0) {
            // What is firing may set timers that are already due: read again once it is done,
            // and every LATE_AFTER_MS meanwhile, so that a firing waiting in a busy object's
            // mailbox holds back no other object's timer falling due.
            await this.drainFor(LATE_AFTER_MS);
            continue;
          }
          // Rows whose firing failed are still there: they are tried again LATE_AFTER_MS on.
          this.stuck = new Set(left);
          // A failure told of a row that is gone (fired since, or deleted) is forgotten.
          for (const key of this.told.keys()) if (!this.stuck.has(key)) this.told.delete(key);
          this.retryAt = left.length > 0 ? (this.retryAt ?? now + LATE_AFTER_MS) : null;
          return;
        }
        for (let i = 0; i < due.length; i++) {
          if (this.firing >= this.concurrency) await this.drain(this.concurrency - 1);
          if (this.stopped) return;
          attempted.add(keys[i]!);
          attemptedSince++;
          this.launch(due[i]!, recovering);
        }
      }
    } finally {
      await this.drain(0);
    }
  }

  /** Fires one row; its object's mailbox keeps the order of the firings started for it. */
  private launch(t: DueTimer, recovering: boolean): void {
    this.firing++;
    if (this.firing > this.peakConcurrency) this.peakConcurrency = this.firing;
    // Late: it fell due while the server was down, or it fires more than a second after its
    // due time. A row that falls due during the first round (which may take seconds with many
    // overdue rows), or is set then, is not late for being fired in it.
    const late = (recovering && t.dueAt < this.startedAt) || this.clock.now() - t.dueAt > LATE_AFTER_MS;
    const key = keyOf(t);
    void this.hooks
      .fire(t, late)
      .then(
        () => this.told.delete(key),
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          if (this.told.get(key) === message) return;
          this.told.set(key, message);
          this.hooks.onError(e as Error, `timer ${t.name} of ${t.objectId}`);
        },
      )
      .finally(() => {
        this.firing--;
        for (const r of this.freed.splice(0)) r();
      });
  }

  /** Waits until no firing is in progress, or for `ms` at most. */
  private drainFor(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(handle);
        // Out of the waiters, or one would pile up every `ms` while a firing stays held.
        const waiting = this.freed.indexOf(check);
        if (waiting >= 0) this.freed.splice(waiting, 1);
        resolve();
      };
      const check = () => {
        if (done) return;
        if (this.firing === 0) finish();
        else this.freed.push(check);
      };
      const handle = this.clock.setTimeout(finish, ms);
      check();
    });
  }

  /** Waits until at most `most` firings are in progress. */
  private async drain(most: number): Promise<void> {
    while (this.firing > most) await new Promise<void>((r) => this.freed.push(r));
  }
}
