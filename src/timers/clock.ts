// The two clocks: the system's, and a virtual one that tests and fixtures move by hand.

import type { Clock, TimerHandle } from "../core/clock.ts";

/** Wall-clock time and Node's timers. */
export class SystemClock implements Clock {
  private readonly handles = new Map<number, NodeJS.Timeout>();
  private next = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    // Node caps a timer at 2^31-1 ms; a longer wait re-arms itself.
    const MAX = 2_147_483_647;
    const arm = (left: number) => {
      const t = setTimeout(
        () => {
          if (left > MAX) arm(left - MAX);
          else {
            this.handles.delete(id);
            fn();
          }
        },
        Math.min(Math.max(0, left), MAX),
      );
      t.unref?.();
      this.handles.set(id, t);
    };
    arm(ms);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const t = this.handles.get(handle.id);
    if (t) clearTimeout(t);
    this.handles.delete(handle.id);
  }
}

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Time that moves only when told. `advanceTo` fires due callbacks in due order, setting the
 * clock to each one's due time, and awaits `settle` after each so that the work a callback
 * starts (an evaluation, a commit, a driver call) completes before the next fires.
 */
export class VirtualClock implements Clock {
  private current: number;
  private pending: Pending[] = [];
  private nextId = 1;

  constructor(start: number | string = 0) {
    this.current = typeof start === "string" ? Date.parse(start) : start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== handle.id);
  }

  /** Callbacks waiting, for assertions. */
  get waiting(): number {
    return this.pending.length;
  }

  /**
   * Moves the time forward without firing anything on the way, as when a server was down:
   * the callbacks that fell due fire, late, at the next `advance`.
   */
  jumpTo(target: number): void {
    this.current = Math.max(this.current, target);
  }

  async advance(ms: number, settle: () => Promise<void> = flush): Promise<void> {
    await this.advanceTo(this.current + ms, settle);
  }

  async advanceTo(target: number, settle: () => Promise<void> = flush): Promise<void> {
    await settle();
    for (;;) {
      let first: Pending | undefined;
      for (const p of this.pending)
        if (p.at <= target && (!first || p.at < first.at || (p.at === first.at && p.id < first.id))) first = p;
      if (!first) break;
      this.pending = this.pending.filter((p) => p !== first);
      this.current = Math.max(this.current, first.at);
      first.fn();
      await settle();
    }
    this.current = Math.max(this.current, target);
  }
}

/** Lets queued promise callbacks and immediates run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
