// Vigil's machine leases on Fly, as one driver keeps them. A lease whose release failed is kept
// and taken up again by the next command on the machine. A lease's description names the server
// that took it, the command and the object, so that a lease read back for the same object that
// no command of this server holds any longer (an earlier server stopped before releasing it, or
// was killed mid-command; or this server's own, when both the answer that took it and the read
// back were lost) is taken up by its nonce instead of being met as another holder's.
//
// A release's stop (DELETE, rebind) shares the lease of the command in progress on its machine
// (a start with Fly) instead of taking one of its own, which would meet that one as another
// holder's: it waits for the lease the command is taking, and the last of the two to end
// releases it.

import { BoundedMap } from "../../core/bounded-map.ts";
import { FlyApiError, LeaseHeldError, type FlyClient, type HeldLease } from "./client.ts";
import type { FlyConfig } from "./config.ts";

/** A lease a command holds (and a release's stop may share), as `acquire` gives it. */
export interface Held {
  /** The lease (`held`, once taken; a renewal that finds it expired gets a new nonce) and when it was last taken or renewed. */
  lease: { held?: HeldLease; at?: number };
  readonly machine: string;
  readonly description: string;
  /** Settles once the lease is taken, or its take failed. */
  readonly taken: Promise<void>;
  /** The commands using it: the last to `leave` releases it. */
  users: number;
}

export class MachineLeases {
  /** Names this server (this driver) in the descriptions of its leases. */
  private readonly server: string;
  /**
   * Leases this driver took and could not release (Fly's 5xx, the network), by machine: the next
   * command on the machine takes the lease up again by its nonce, instead of meeting it as
   * another holder's until it expires.
   */
  private readonly kept = new Map<string, HeldLease>();
  /** The descriptions of the commands in progress (begin to end): their leases are not left. */
  private readonly live = new Set<string>();
  /** The descriptions of left (or kept) leases a command set out to take up: each is taken up once. */
  private readonly takenUp = new BoundedMap<string, true>(TAKEN_UP);
  /** The lease of the command in progress on each machine, for a release's stop to share. */
  private readonly holding = new Map<string, Held>();

  constructor(private readonly random: () => number) {
    this.server = hex32(random);
  }

  /**
   * The lease for a command on `objectId`: with `share` (a release's stop), the lease of the
   * command in progress on the machine, once taken, if there is one; else one of its own.
   * Every `acquire` that resolves is followed by a `leave`.
   */
  async acquire(
    client: FlyClient,
    cfg: FlyConfig,
    ttlS: number,
    machine: string,
    objectId: string,
    share: boolean,
  ): Promise<Held> {
    const current = share ? this.holding.get(machine) : undefined;
    if (current) {
      current.users++;
      await current.taken;
      if (current.lease.held) return current;
      await this.leave(current, client, cfg);
    }
    let taken!: () => void;
    const held: Held = {
      lease: {},
      machine,
      description: this.begin(objectId),
      taken: new Promise((resolve) => (taken = resolve)),
      users: 1,
    };
    // The first command in progress on the machine is the one a release shares; another's
    // take (of another object, on the same machine) meets its lease, and must not hide it.
    if (!this.holding.has(machine)) this.holding.set(machine, held);
    try {
      held.lease.held = await this.take(client, cfg, ttlS, machine, objectId, held.description);
      // Taken: the machine's lease is this command's now, whichever command was registered.
      this.holding.set(machine, held);
      return held;
    } catch (e) {
      await this.leave(held, client, cfg);
      throw e;
    } finally {
      taken();
    }
  }

  /**
   * A command is done with `held`. The last to leave releases the lease, best effort: one not
   * released expires after its ttl, and is taken up by the next command on the machine meanwhile.
   */
  async leave(held: Held, client: FlyClient, cfg: FlyConfig): Promise<void> {
    if (--held.users > 0) return;
    if (this.holding.get(held.machine) === held) this.holding.delete(held.machine);
    const lease = held.lease.held;
    if (lease)
      await client
        .releaseLease(cfg.app, cfg.machineId, lease.nonce)
        .catch((e: unknown) => this.unreleased(held.machine, lease, e));
    this.end(held.description);
  }

  /** A command on `objectId` begins: the description of its lease, live until `end`. */
  private begin(objectId: string): string {
    const description = `vigil lifecycle governor (${this.server}-${hex32(this.random)}) for object ${objectId}`;
    this.live.add(description);
    return description;
  }

  /** The command is over (its lease released, kept, or never taken). */
  private end(description: string): void {
    this.live.delete(description);
  }

  /**
   * The machine's lease for the command `description` on `objectId`: one kept from an earlier
   * command taken up by its nonce (renewed under this command's description, which names the
   * object it serves now), if there is one, and kept for the next try when this one fails
   * (unless another holder has it now, a 409: it expired and was taken). A lease left for the
   * same object is taken up by its nonce too, by one command.
   */
  private async take(
    client: FlyClient,
    cfg: FlyConfig,
    ttlS: number,
    machine: string,
    objectId: string,
    description: string,
  ): Promise<HeldLease> {
    // Taken out before the call: of two commands on the machine at once, one takes it up.
    const kept = this.kept.get(machine);
    this.kept.delete(machine);
    // Until this renewal lands, Fly shows the kept lease under its last command's description:
    // another command reading it back meanwhile must not take it as left.
    if (kept) this.tookUp(kept.description);
    try {
      return await client.lease(
        cfg.app,
        cfg.machineId,
        ttlS,
        kept ? { nonce: kept.nonce, description } : { description },
        // A left lease met at the first 409 is taken up below, without more tries.
        (holder) => !kept && this.isLeft(holder.description, objectId),
      );
    } catch (e) {
      const left = e instanceof LeaseHeldError && !kept ? e.holder : null;
      if (left && this.isLeft(left.description, objectId)) {
        this.tookUp(left.description);
        // A lease kept since (its command's release failed after this one met it) is this one.
        if (this.kept.get(machine)?.nonce === left.nonce) this.kept.delete(machine);
        return this.takeUp(client, cfg, ttlS, machine, { nonce: left.nonce, description });
      }
      // Kept under this command's description: Fly may show it so now, if the renewal landed.
      if (kept) this.keepUnlessTaken(e, machine, { nonce: kept.nonce, description });
      throw e;
    }
  }

  /**
   * Marks a lease as taken up. Only the last TAKEN_UP are remembered: a lease lives for its ttl
   * (minutes), so an older one is gone from Fly, and the set does not grow for ever.
   */
  private tookUp(description: string): void {
    this.takenUp.set(description, true);
  }

  /**
   * A lease whose release failed: the next command on the machine takes it up by its nonce.
   * Not when the release found it no longer this command's (409: another lease is there now;
   * Fly's 404: none is, as when its DELETE went through and only the answer was lost, or the
   * machine is gone), and not over a lease kept already (the same rule as a failed take). A 404
   * that is not Fly's word on the machine (`app not found`, another server's page) is kept.
   */
  private unreleased(machine: string, held: HeldLease, e: unknown): void {
    if (e instanceof FlyApiError && e.flyNotFound) return;
    this.keepUnlessTaken(e, machine, held);
  }

  /**
   * A lease read back is left when it is Vigil's, for this object, and no command in progress
   * here holds it: one server governs a database, so no other command needs it any more.
   */
  private isLeft(holder: string, objectId: string): boolean {
    const m = DESCRIBED.exec(holder);
    return m !== null && m[1] === objectId && !this.live.has(holder) && !this.takenUp.has(holder);
  }

  private async takeUp(client: FlyClient, cfg: FlyConfig, ttlS: number, machine: string, left: HeldLease) {
    try {
      return await client.lease(cfg.app, cfg.machineId, ttlS, left);
    } catch (e) {
      this.keepUnlessTaken(e, machine, left);
      throw e;
    }
  }

  /** After a failed call with `held`: kept for the next command, unless another holder has it (409). */
  private keepUnlessTaken(e: unknown, machine: string, held: HeldLease): void {
    const taken = e instanceof FlyApiError && e.status === 409;
    if (!taken && !this.kept.has(machine)) this.kept.set(machine, held);
  }
}

/** How many taken-up leases are remembered. */
const TAKEN_UP = 4096;

/** A random name, in hex. */
const hex32 = (random: () => number) => Math.floor(random() * 2 ** 32).toString(16);

/** A description `begin` makes; the object it names. */
const DESCRIBED = /^vigil lifecycle governor \([0-9a-f]+-[0-9a-f]+\) for object (.*)$/s;
