// The crash-loop guard: compute that dies as soon as it starts would be restarted by its rules
// without end. Too many exits Vigil did not ask for, within a window, stop the loop: the object
// is `failed` until a fact or a timer wakes it.

/** This many exits Vigil did not ask for within the window make an object `failed`. */
export const CRASH_LOOP = { exits: 5, windowMs: 60_000 };

export class CrashLoopGuard {
  /** Times of recent unrequested exits, per object. */
  private readonly exits = new Map<string, number[]>();
  /** When objects whose exits are all out of the window were last let go. */
  private sweptAt = -Infinity;

  constructor(private readonly limit = CRASH_LOOP) {}

  /** Records an unrequested exit at `now`; true when the object has had too many lately. */
  exited(objectId: string, now: number): boolean {
    this.sweep(now);
    const recent = (this.exits.get(objectId) ?? []).filter((t) => now - t < this.limit.windowMs);
    recent.push(now);
    this.exits.set(objectId, recent);
    return recent.length >= this.limit.exits;
  }

  /** Objects being watched: those with an exit inside the window, as of the last sweep. */
  get watched(): number {
    return this.exits.size;
  }

  /**
   * Once a window, lets go of the objects whose newest exit is out of it, so that every object
   * that ever crashed once is not kept for good (one pass over the map, once a window).
   */
  private sweep(now: number): void {
    if (now - this.sweptAt < this.limit.windowMs) return;
    this.sweptAt = now;
    for (const [id, times] of this.exits)
      if (now - times[times.length - 1]! >= this.limit.windowMs) this.exits.delete(id);
  }

  /**
   * Forgets the object's exits. Returns what puts them back, for a change that did not go
   * through (a rebind refused: the object keeps the compute they were counted for), with any
   * exit recorded meanwhile.
   */
  forget(objectId: string): () => void {
    const forgotten = this.exits.get(objectId);
    this.exits.delete(objectId);
    return () => {
      if (forgotten === undefined) return;
      this.exits.set(objectId, [...forgotten, ...(this.exits.get(objectId) ?? [])]);
    };
  }

  /** The note a crash-loop decision carries. */
  get note(): string {
    return `crash loop: ${this.limit.exits} exits Vigil did not ask for within ${this.limit.windowMs / 1000} s; not evaluated, so not restarted`;
  }
}
