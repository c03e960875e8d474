// One governor per database. Before a server evaluates, dispatches or fires anything it takes
// the lease row in the database, and it renews the lease while it runs. A second server on the
// same database finds the lease held and refuses to start, naming the holder. A holder that
// stopped without giving the lease up (kill -9) is recognised on the same host by its process
// being gone, so a restart does not wait for the lease to expire; on another host the lease
// expires `ttlMs` after its last renewal.

import type { LeaseHolder, Store } from "../core/store.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { every } from "../timers/every.ts";

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
  pid: number;
  alive: (pid: number) => boolean;
}

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
  /** The renewal on its way to the database, if one is. */
  private renewing: Promise<unknown> | null = null;
  /**
   * When the lease runs out unless renewed first: lost then, whether the renewals failed or
   * never answered (a stalled disk), since from then on another server may claim it.
   */
  private deadline: TimerHandle | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly me: LeaseIdentity,
    /**
     * Told when the lease is lost (a renewal finds another holder, or renewals failed for longer
     * than the lease lasts): this server must stop governing.
     */
    private readonly onLost: (holder: LeaseHolder | null) => void,
    private readonly onError: (e: Error) => void,
    private readonly ttlMs = LEASE_TTL_MS,
    private readonly renewMs = LEASE_RENEW_MS,
  ) {}

  /** Takes the lease or throws {@link LeaseHeldError}; then renews it until {@link release}. */
  async acquire(): Promise<void> {
    const now = this.clock.now();
    let holder = await this.store.claimLease(this.claim(now), now);
    if (holder && holder.owner !== this.me.owner && this.dead(holder))
      holder = await this.store.claimLease(this.claim(now), now, holder.owner);
    if (!holder || holder.owner !== this.me.owner) throw new LeaseHeldError(holder!);
    this.held = true;
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
    await this.renewing?.catch(() => undefined);
    await this.store.releaseLease(this.me.owner);
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    const now = this.clock.now();
    const claim = (this.renewing = this.store.claimLease(this.claim(now), now));
    let holder: LeaseHolder | null;
    try {
      holder = await claim;
    } finally {
      this.renewing = null;
    }
    // Released meanwhile (shutdown): nothing was lost.
    if (!this.held) return;
    if (holder?.owner === this.me.owner) {
      this.renewed(now);
      return;
    }
    this.lost(holder);
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

  /** A claim made at `at` held: the lease now runs out `ttlMs` after it. */
  private renewed(at: number): void {
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
    const { owner, host, pid } = this.me;
    return { owner, host, pid, acquiredAt: now, renewedAt: now, expiresAt: now + this.ttlMs };
  }

  /**
   * A holder on this host whose process is gone (or is this very process: a previous
   * incarnation in a container restarted with the same pid) no longer governs anything.
   */
  private dead(h: LeaseHolder): boolean {
    return h.host === this.me.host && (h.pid === this.me.pid || !this.me.alive(h.pid));
  }
}

/** Whether a process of this host is alive (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
