// The readiness probe's read of the database, and the scrape's count of timers: answered within
// READY_TIMEOUT_MS (on the governor's clock), so that a probe or a scrape is answered even when
// the database stalls (a remote server behind a partition, a stuck disk). And whether the
// database takes commits: a full disk still answers reads, and may take a small write, while
// every commit is a 503.

import type { Clock } from "../core/clock.ts";
import type { Store } from "../core/store.ts";
import { DB_MOVED, isPassingStorageError, remoteFailure, storageRefusal, WRITER_EXITED } from "../core/errors.ts";
import { answerWithin } from "../timers/within.ts";

/** How long /readyz waits for its read of the database before it says the database does not answer. */
export const READY_TIMEOUT_MS = 2000;

/**
 * The reads of a store on their way, the latest of each kind: a probe or a scrape that comes
 * within READY_TIMEOUT_MS of its start waits for it (for READY_TIMEOUT_MS of its own at most)
 * rather than sending another. /readyz needs no token, and every probe was a read of its own: a
 * flood of them sent as many to the database, and against one that stalls (each left to end
 * when it may) they piled up. One older than that is left to end alone: a read that never ends
 * (a connection lost without a word) must not answer for the database from then on.
 */
interface Read<T> {
  answer: Promise<T>;
  at: number;
}
const readyReads = new WeakMap<Store, Read<string | null>>();
const timerCounts = new WeakMap<Store, Read<number | null>>();

/** `read()`, or the one of the last READY_TIMEOUT_MS still on its way. `read` never rejects. */
function shared<T>(reads: WeakMap<Store, Read<T>>, store: Store, clock: Clock, read: () => Promise<T>): Promise<T> {
  const now = clock.now();
  const pending = reads.get(store);
  if (pending && now >= pending.at && now - pending.at < READY_TIMEOUT_MS) return pending.answer;
  const started = { answer: read(), at: now };
  reads.set(store, started);
  void started.answer.then(() => {
    if (reads.get(store) === started) reads.delete(store);
  });
  return started.answer;
}

/** Why the database is not fit to serve (it failed or did not answer a read in time), or null. */
export function databaseNotReady(store: Store, clock: Clock): Promise<string | null> {
  const read = shared(readyReads, store, clock, () =>
    store.getObject("\u0000readyz").then(
      () => null,
      // A remote database's failure is named (refused, an HTTP error, a reply that is not libsql's).
      (e: unknown) => {
        const remote = remoteFailure(e);
        return remote ? `the database ${remote.reason}` : "the database does not answer";
      },
    ),
  );
  return answerWithin(clock, READY_TIMEOUT_MS, read, `the database did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** How many timers are pending; null when the database failed or did not answer in time. */
export function timersPending(store: Store, clock: Clock): Promise<number | null> {
  const count = shared(timerCounts, store, clock, () => store.countTimers().catch(() => null));
  return answerWithin(clock, READY_TIMEOUT_MS, count, null);
}

/** The writes whose going through says that commits go through: a group commit's, and the probe's. */
const COMMITS: ReadonlySet<keyof Store> = new Set<keyof Store>(["commit", "probeWrite"]);

/**
 * Whether the database refuses writes: a write was refused for a reason that may pass (SQLite's
 * SQLITE_FULL, IOERR, READONLY, BUSY...: core/errors.ts) and no commit has gone through since
 * (the latest refusal's code is told, from when it was first seen). A
 * full disk leaves reads working, so the probe's read alone said ready while every commit was a
 * 503. Only a commit, or the write probe, clears a refusal: a small write that updates a row in
 * place (the lease's renewal, an action's status) can still go through on a full disk where no
 * commit does, and readiness cleared by it turned back and forth every 4 s. Readiness turns back
 * without any request too: while refused, each probe of /readyz tries a write the size of a
 * commit (Store.probeWrite; one at a time, however many probes come). (On a file database a
 * refusal of the lease's renewals that lasts loses the lease 15 s on, and `vigil serve` shuts down.)
 */
export class WriteRefusals {
  private refused: { code: string; since: number } | null = null;
  /** The write probe on its way, if one is. */
  private probing: Promise<void> | null = null;

  constructor(private readonly clock: Clock) {}

  /** Watches a write to the database: a refusal is remembered, a commit that went through clears it. */
  readonly watch = (write: Promise<unknown>, method: keyof Store): void => {
    write.then(
      () => {
        if (COMMITS.has(method)) this.refused = null;
      },
      (e: unknown) => {
        if (!isPassingStorageError(e)) return;
        // The latest refusal is the one told (a file removed after the disk was full is no
        // longer a full disk), since it was first seen.
        const code = (e as { code: string }).code;
        if (this.refused?.code !== code) this.refused = { code, since: this.clock.now() };
      },
    );
  };

  /**
   * Why the database is not fit to serve writes, or null. While it refuses them, `store` (the
   * watched one) is sent a write probe, unless one is still on its way, and its answer is waited
   * for (READY_TIMEOUT_MS at most): a write stuck behind a lock is not joined by another each time.
   */
  async why(store: Store): Promise<string | null> {
    // A writer thread that stopped is known without a write: ready no more from that moment.
    const stopped = store.writesStopped?.();
    if (stopped)
      return `the database refuses writes (${WRITER_EXITED}; ${storageRefusal(stopped)}): nothing can be committed`;
    if (this.refused === null) return null;
    this.probing ??= store
      .probeWrite()
      .catch(() => {})
      .finally(() => (this.probing = null));
    await answerWithin(this.clock, READY_TIMEOUT_MS, this.probing, undefined);
    if (this.refused === null) return null;
    const since = new Date(this.refused.since).toISOString();
    const { code } = this.refused;
    const why =
      code === DB_MOVED || code === WRITER_EXITED
        ? storageRefusal({ code })
        : "a full disk, a file made read-only or removed, another program holding its lock";
    return `the database refuses writes (${code} since ${since}; ${why}): nothing can be committed`;
  }
}
