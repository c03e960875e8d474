// One governor per database. Before a server evaluates, dispatches or fires anything it takes
// the lease row in the database, and it renews the lease while it runs. A second server on the
// same database finds the lease held and refuses to start, naming the holder. A holder that
// stopped without giving the lease up (kill -9) is recognised on the same host, in the same PID
// namespace, by its process being gone, so a restart does not wait for the lease to expire.
// Where its pid says nothing (the same host name in another PID namespace: a container
// restarted, or one beside it with the host's network) the server waits while the lease runs
// out, and is refused as soon as the holder renews it; on another host the lease expires
// `ttlMs` after its last renewal.

import { randomUUID } from "node:crypto";
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { LeaseHolder, Store } from "../core/store.ts";
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { every } from "../timers/every.ts";
import { answerWithin, sleep } from "../timers/within.ts";

/**
 * How long a claim holds without renewal, and how often it is renewed: often enough that the
 * third attempt after two quick failures comes before the claim runs out.
 */
export const LEASE_TTL_MS = 15_000;
export const LEASE_RENEW_MS = 4_000;

/** Where this server runs, and how to tell whether a process on this host is alive. */
export interface LeaseIdentity {
  owner: string;
  host: string;
  /**
   * The PID namespace `pid` is in (`/proc/self/ns/pid`), or null where it cannot be read. The
   * lease row names it with the host (`host pid:[4026531836]`): a pid is checked only in its own.
   */
  pidNamespace?: string | null;
  pid: number;
  alive: (pid: number) => boolean;
}

/** How the lease waits for a holder its pid says nothing about. */
export interface LeaseWaiting {
  /** Told once, when it starts to wait. */
  onWait?: (holder: LeaseHolder) => void;
  /** Start-up's signal: a wait is cut short when it is aborted. */
  signal?: AbortSignal;
  /**
   * Keeps the process alive while it waits, and returns what lets it go. The clock's timers do
   * not hold a process (a real server's are unref'd), and on a remote database nothing else may:
   * `vigil serve` then exited 13 (an unsettled top-level await) in the middle of the wait.
   */
  hold?: () => () => void;
}

/** A renewal's answer that did not come in time. */
const LATE = Symbol("late");

/** How long past a missed renewal a holder's lease is taken for unrenewed. */
const RENEWAL_GRACE_MS = 1_000;

/** The lease is held by another server. */
export class LeaseHeldError extends Error {
  constructor(readonly holder: LeaseHolder) {
    super(
      `another Vigil server governs this database: ${describeHolder(holder)}; stop it first, ` +
        `or wait until its lease expires at ${new Date(holder.expiresAt).toISOString()}`,
    );
    this.name = "LeaseHeldError";
  }
}

export function describeHolder(h: LeaseHolder): string {
  return `process ${h.pid} on ${h.host} (owner ${h.owner}, since ${new Date(h.acquiredAt).toISOString()})`;
}

export class Lease {
  private stopRenewing: (() => void) | null = null;
  private held = false;
  /**
   * The renewals on their way to the database: one that has not answered when the next is due
   * is left to end when it may, and the next one is sent beside it.
   */
  private readonly renewing = new Set<Promise<unknown>>();
  /** The time of the latest claim that held: a renewal answering late does not move the deadline back. */
  private heldAt = -Infinity;
  /**
   * When the lease runs out unless renewed first: lost then, whether the renewals failed or
   * never answered (a stalled disk), since from then on another server may claim it.
   */
  private deadline: TimerHandle | null = null;

  private readonly ttlMs = LEASE_TTL_MS;
  private readonly renewMs = LEASE_RENEW_MS;
  private readonly me: LeaseIdentity;
  private readonly waiting: LeaseWaiting;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    { identity, waiting = {} }: { identity: LeaseIdentity; waiting?: LeaseWaiting },
    /**
     * Told when the lease is lost (a renewal finds another holder, or renewals failed for longer
     * than the lease lasts): this server must stop governing.
     */
    private readonly onLost: (holder: LeaseHolder | null) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.me = identity;
    this.waiting = waiting;
  }

  /**
   * Takes the lease or throws {@link LeaseHeldError}; then renews it until {@link release}.
   * Paused, it neither renews it nor counts it out until {@link resume}: start-up's migration
   * holds the database's write lock (and, on a file, the event loop), so a renewal cannot go
   * through while it runs, and no other server's claim can either. A migration is as long as the
   * database is large (5 s for 12 million decisions here), and one longer than the lease lasts
   * lost it the moment it ended.
   */
  async acquire({ paused = false }: { paused?: boolean } = {}): Promise<void> {
    let now = this.clock.now();
    let holder = await this.store.claimLease(this.claim(now), now);
    if (holder && holder.owner !== this.me.owner && this.dead(holder))
      holder = await this.store.claimLease(this.claim(now), now, holder.owner);
    // The lease runs out ttlMs after the claim that took it, whenever that claim answered.
    if (holder && holder.owner !== this.me.owner && this.unknowable(holder)) [holder, now] = await this.outwait(holder);
    if (!holder || holder.owner !== this.me.owner) throw new LeaseHeldError(holder!);
    this.held = true;
    if (!paused) this.keep(now);
  }

  /**
   * After a paused {@link acquire}: claims the lease again at once (its row may have expired
   * meanwhile) and renews it from then on. Another server that took it after the pause is told
   * as a loss, as a renewal finding it would be.
   */
  async resume(): Promise<void> {
    if (!this.held || this.stopRenewing) return;
    const now = this.clock.now();
    const holder = await this.store.claimLease(this.claim(now), now);
    if (holder?.owner === this.me.owner) this.keep(now);
    else this.lost(holder);
  }

  /** Held from a claim made at `now`: renewed from then on, and lost if it runs out. */
  private keep(now: number): void {
    this.renewed(now);
    this.stopRenewing = every(
      this.clock,
      this.renewMs,
      () => this.renew(),
      (e) => this.renewalFailed(e),
    );
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Stops renewing and gives the lease up (at shutdown). */
  async release(): Promise<void> {
    this.stopRenewing?.();
    this.stopRenewing = null;
    this.clearDeadline();
    if (!this.held) return;
    this.held = false;
    // A renewal on its way would otherwise claim the row again once it is given up.
    await Promise.all([...this.renewing].map((r) => r.catch(() => undefined)));
    await this.store.releaseLease(this.me.owner);
  }

  /**
   * One renewal: claims sent back to back until one answers, each given `renewMs` (a remote
   * database's round trip may go unanswered for longer than the lease lasts). One that has not
   * answered in time is left in flight and reported; its answer, when it comes, still counts, and
   * its failure is reported then. The deadline ends the attempts when none answers in time.
   */
  private async renew(): Promise<void> {
    while (this.held) {
      const now = this.clock.now();
      const claim = this.store.claimLease(this.claim(now), now);
      this.renewing.add(claim);
      let late = false;
      const answered = claim.then(
        (holder) => this.answered(holder, now),
        (e: unknown) => {
          // Within its time, the failure is the run's own (every() reports it).
          if (late) this.renewalFailed(e as Error);
        },
      );
      void answered.finally(() => this.renewing.delete(claim));
      if ((await answerWithin(this.clock, this.renewMs, claim, LATE)) !== LATE) return void (await answered);
      late = true;
      this.renewalFailed(
        new Error(`the lease's renewal did not answer within ${this.renewMs / 1000} s; sending another`),
      );
    }
  }

  /** A renewal made at `at` answered: renewed, or another server holds the lease. */
  private answered(holder: LeaseHolder | null, at: number): void {
    // Released meanwhile (shutdown): nothing was lost.
    if (!this.held) return;
    if (holder?.owner === this.me.owner) this.renewed(at);
    else this.lost(holder);
  }

  /** A renewal that failed (the database did not answer): the deadline loses the lease if none succeeds. */
  private renewalFailed(e: Error): void {
    if (this.held) this.onError(e);
  }

  private lost(holder: LeaseHolder | null): void {
    this.held = false;
    this.stopRenewing?.();
    this.stopRenewing = null;
    this.clearDeadline();
    this.onLost(holder);
  }

  /** A claim made at `at` held: the lease now runs out `ttlMs` after it (or a later claim's). */
  private renewed(at: number): void {
    if (at < this.heldAt) return;
    this.heldAt = at;
    this.clearDeadline();
    this.deadline = this.clock.setTimeout(
      () => {
        this.deadline = null;
        if (this.held) this.lost(null);
      },
      Math.max(0, at + this.ttlMs - this.clock.now()),
    );
  }

  private clearDeadline(): void {
    if (this.deadline) this.clock.clearTimeout(this.deadline);
    this.deadline = null;
  }

  private claim(now: number): LeaseHolder {
    const { owner, pid } = this.me;
    return { owner, host: this.where, pid, acquiredAt: now, renewedAt: now, expiresAt: now + this.ttlMs };
  }

  /** The host, with the PID namespace its pids mean something in. */
  private get where(): string {
    return this.me.pidNamespace ? `${this.me.host} ${this.me.pidNamespace}` : this.me.host;
  }

  /**
   * A holder on this host, in this PID namespace, whose process is gone (or is this very
   * process: a previous incarnation that had the same pid) no longer governs anything.
   */
  private dead(h: LeaseHolder): boolean {
    return h.host === this.where && (h.pid === this.me.pid || !this.me.alive(h.pid));
  }

  /**
   * A holder on a host of this name whose pid says nothing here: in another PID namespace (a
   * container restarted after a crash, or a live one beside it sharing the host's name), or
   * written by a server that could not read its namespace when this one can, or the other way
   * round. Each is PID 1 as often as not.
   */
  private unknowable(h: LeaseHolder): boolean {
    return h.host !== this.where && (h.host === this.me.host || h.host.startsWith(`${this.me.host} pid:[`));
  }

  /**
   * Waits while an unknowable holder's lease runs out, and returns the holder after, with the
   * time of the claim that found it: this server, once it has expired; the holder, as soon as
   * a renewal shows it alive.
   */
  private async outwait(first: LeaseHolder): Promise<[LeaseHolder | null, number]> {
    this.waiting.onWait?.(first);
    const expired = first.expiresAt + 1;
    // Just past its next renewal's due time a live holder has shown itself; else, just past its
    // expiry, the claim takes the lease (unless a late renewal came first).
    for (const until of [Math.min(first.renewedAt + this.renewMs + RENEWAL_GRACE_MS, expired), expired]) {
      await this.sleep(Math.max(0, until - this.clock.now()));
      const at = this.clock.now();
      const holder = await this.store.claimLease(this.claim(at), at);
      if (holder?.owner !== first.owner || holder.renewedAt !== first.renewedAt) return [holder, at];
    }
    return [first, this.clock.now()];
  }

  private async sleep(ms: number): Promise<void> {
    const signal = this.waiting.signal;
    signal?.throwIfAborted();
    const letGo = this.waiting.hold?.() ?? (() => {});
    try {
      await sleep(this.clock, ms, signal);
    } finally {
      letGo();
    }
    // Cut short by the signal: the wait fails with its reason.
    signal?.throwIfAborted();
  }
}

/**
 * The lease of a server: this process; a warning while it waits for a holder its pid says
 * nothing about, cut short by start-up's `signal`; an error logged and `onLost` once lost.
 */
export function serverLease(log: Logger, signal: AbortSignal | undefined, onLost: () => void) {
  return {
    identity: thisProcess(),
    waiting: {
      signal,
      // An interval that never fires is a handle Node counts, cleared when the wait ends.
      hold: () => {
        const handle = setInterval(() => {}, 2 ** 30);
        return () => clearInterval(handle);
      },
      onWait: (h: LeaseHolder) =>
        log.warn("waiting for the lease of a holder on this host whose pid cannot be checked here", {
          holder: describeHolder(h),
          until: new Date(h.expiresAt).toISOString(),
        }),
    },
    onLost: (holder: LeaseHolder | null) => {
      log.error("the governing lease was lost; this server stops governing", {
        holder: holder ? describeHolder(holder) : "unknown (no renewal went through in time: failed, or not answered)",
      });
      onLost();
    },
  };
}

/** This server's identity: a new owner id, this host and PID namespace, this process. */
function thisProcess(): LeaseIdentity {
  let pidNamespace: string | null = null;
  try {
    pidNamespace = readlinkSync("/proc/self/ns/pid");
  } catch {
    // not Linux, or /proc not mounted: pids are checked as they are
  }
  return { owner: randomUUID(), host: hostname(), pidNamespace, pid: process.pid, alive: processAlive };
}

/** Whether a process of this host is alive (signal 0 checks without sending anything). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
