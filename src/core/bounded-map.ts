// A map that keeps its newest entries only: past its limit, setting a key drops the oldest. The
// hot set of dormant objects, the timers put off, the drivers actions were sent to, the Fly
// leases taken up and the duration cache are each one.
//
// The entries are kept in a list from oldest to newest beside a Map from key to entry, so that
// dropping the oldest, moving a key to the newest place and deleting any key are each a few
// pointer changes. Two ways with a Map alone were measured and not kept:
// - The Map's own order (insertion order: its first key is its oldest). Asking for the first key
//   (`map.keys().next()`) steps over every entry deleted since V8 last rebuilt the map's table,
//   and dropping from the front leaves exactly those: at 100,000 entries that cost 10–100 µs a
//   drop, growing until the table was rebuilt. The hot set's drops took about a third of the main
//   thread when a server created objects past VIGIL_HOT_OBJECTS, and its creation rate fell run
//   by run (5,400 to 3,500 a second).
// - One iterator kept from drop to drop, which steps over each deleted entry once. But an
//   iterator keeps the table it was made on alive, and every table V8 rebuilt since (each links
//   to the next) until it moves again, which it does only on a drop: a map that stopped filling
//   to its limit (the hot set after many of its objects woke) while keys still came and went
//   held more memory with every rebuild: at 70,000 entries, 40 MB more for every 200,000 times a
//   key was added and another deleted.

interface Entry<K, V> {
  readonly key: K;
  value: V;
  older: Entry<K, V> | undefined;
  newer: Entry<K, V> | undefined;
}

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  private oldest: Entry<K, V> | undefined;
  private newest: Entry<K, V> | undefined;

  /** `limit`: the most entries kept (0 or less: none). */
  constructor(readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Sets `key` as the newest entry (an existing one moves), then drops the oldest past the limit. */
  set(key: K, value: V): void {
    this.delete(key);
    if (this.limit <= 0) return;
    const entry: Entry<K, V> = { key, value, older: this.newest, newer: undefined };
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
    this.entries.set(key, entry);
    while (this.entries.size > this.limit) this.delete(this.oldest!.key);
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    return true;
  }
}
