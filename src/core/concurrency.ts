// A bounded pool of work: the few-at-a-time loops of reconciliation, usage and the dashboard's
// timeline, written once.

/**
 * Runs `work` on each item of `source`, at most `limit` at a time; items are taken as workers
 * free up, so an async source (a paged store read) is read no faster than it is worked through.
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
    for (let next = await items.next(); !next.done; next = await items.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}
