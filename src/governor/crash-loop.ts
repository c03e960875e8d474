// The crash-loop guard: compute that dies as soon as it starts would be restarted by its rules
// without end. Too many exits Vigil did not ask for, within a window, stop the loop: the object
// is `failed` until a fact or a timer wakes it.

/** This many exits Vigil did not ask for within the window make an object `failed`. */
export const CRASH_LOOP = { exits: 5, windowMs: 60_000 };

export class CrashLoopGuard {
  /** Times of recent unrequested exits, per object. */
  private readonly exits = new Map<string, number[]>();

  constructor(private readonly limit = CRASH_LOOP) {}

  /** Records an unrequested exit at `now`; true when the object has had too many lately. */
  exited(objectId: string, now: number): boolean {
    const recent = (this.exits.get(objectId) ?? []).filter((t) => now - t < this.limit.windowMs);
    recent.push(now);
    this.exits.set(objectId, recent);
    return recent.length >= this.limit.exits;
  }

  forget(objectId: string): void {
    this.exits.delete(objectId);
  }

  /** The note a crash-loop decision carries. */
  get note(): string {
    return `crash loop: ${this.limit.exits} exits Vigil did not ask for within ${this.limit.windowMs / 1000} s; not evaluated, so not restarted`;
  }
}
