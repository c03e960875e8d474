// One evaluation at a time per object: every task for an object (an arrival, a timer, a
// driver confirmation) runs after the previous one has finished. Different objects run side
// by side.

export class Mailboxes {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task already queued for `id`; resolves with its result. */
  run<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    return result;
  }

  /** Resolves once no task is queued or running. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }

  get busy(): number {
    return this.tails.size;
  }
}
