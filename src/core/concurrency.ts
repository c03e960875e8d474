// A bounded pool of work: the few-at-a-time loops of reconciliation, usage and the dashboard's
// timeline, written once; and the turn a long loop gives back to the event loop.

/**
 * Resolves after the event loop's next turn (its I/O and timers included). The embedded
 * database answers its reads synchronously behind a promise, so a loop of reads never lets
 * the loop turn by itself: one that may run long (a stream's backlog, usage over thousands of
 * objects) awaits this between steps, or every request, and the lease's renewal, waits for it.
 */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `work` on each item of `source`, at most `limit` at a time; items are taken as workers
 * free up, so an async source (a paged store read) is read no faster than it is worked through.
 * A worker gives the event loop a turn after each item ({@link nextTurn}).
 */
export async function eachConcurrently<T>(
  source: Iterable<T> | AsyncIterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const items: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const worker = async () => {
    for (let next = await items.next(); !next.done; next = await items.next()) {
      await work(next.value);
      await nextTurn();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}
