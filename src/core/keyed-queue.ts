// One task at a time per key: every task for a key runs after the previous one for it has
// settled (whether it resolved or threw); tasks of different keys run side by side. The
// governor's mailboxes and the process driver's per-object command order are both this.

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  /** Tasks queued or running per key (absent: none). */
  private readonly depths = new Map<string, number>();

  /** Runs `task` after every task already queued for `key`; resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    this.depths.set(key, (this.depths.get(key) ?? 0) + 1);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      const left = this.depths.get(key)! - 1;
      if (left === 0) this.depths.delete(key);
      else this.depths.set(key, left);
    });
    return result;
  }

  /** Tasks queued or running for `key`. */
  depth(key: string): number {
    return this.depths.get(key) ?? 0;
  }

  /** Resolves once no task is queued or running. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }

  /** Keys with a task queued or running. */
  get busy(): number {
    return this.tails.size;
  }
}
