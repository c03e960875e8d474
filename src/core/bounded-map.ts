// A map that keeps its newest entries only: past its limit, setting a key drops the oldest. The
// hot set of dormant objects, the timers put off, the drivers actions were sent to and the
// duration cache are each one.
//
// A Map iterates in insertion order, so its first key is its oldest; but `map.keys().next()`
// starts from the front of V8's table and steps over every entry deleted since the table was
// last rebuilt, and evicting from the front leaves exactly those. At 100,000 entries that cost
// 10–80 µs an eviction, growing as the deleted entries piled up: the hot set's eviction took
// about a third of the main thread when a server created objects past VIGIL_HOT_OBJECTS, and its
// creation rate fell run by run (5,400 to 3,500 a second). This keeps one iterator
// across evictions instead. Every entry behind it has been evicted (it only moves by evicting),
// so its next key is the oldest, and each deleted entry is stepped over once. A Map's iterator
// visits entries added after it was made and skips deleted ones; once it has run out (the map
// was emptied) a new one is made.

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  private cursor: Iterator<K> | undefined;

  /** `limit`: the most entries kept (0 or less: none). */
  constructor(readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Sets `key` as the newest entry (an existing one moves), then drops the oldest past the limit. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.limit <= 0) return;
    this.entries.set(key, value);
    while (this.entries.size > this.limit) this.dropOldest();
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  private dropOldest(): void {
    let next = this.cursor?.next();
    if (next === undefined || next.done) {
      this.cursor = this.entries.keys();
      next = this.cursor.next();
    }
    if (!next.done) this.entries.delete(next.value);
  }
}
