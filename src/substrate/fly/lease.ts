// Vigil's machine leases on Fly, as one driver keeps them: a lease whose release failed is taken
// up again by the next command on the machine; and a lease's description says which server took
// it, for which command and which object, so that the next server can tell a lease an earlier
// one left behind (it stopped before releasing it, or was killed mid-command) from another
// holder's, and take it up.

import { FlyApiError, LeaseHeldError, type FlyClient, type HeldLease } from "./client.ts";
import type { FlyConfig } from "./config.ts";

export class MachineLeases {
  /** Names this server (this driver) in the descriptions of its leases. */
  private readonly server: string;
  /**
   * Leases this driver took and could not release (Fly's 5xx, the network), by machine: the next
   * command on the machine takes its own lease up again by its nonce, instead of meeting it as
   * another holder's until it expires.
   */
  private readonly kept = new Map<string, HeldLease>();
  /**
   * The descriptions of the leases earlier servers left that a command of this one set out to
   * take up: each is taken up by one command only (one that outlives it is kept as above).
   */
  private readonly takenUp = new Set<string>();

  constructor(private readonly random: () => number) {
    this.server = hex32(random);
  }

  /**
   * The machine's lease for a command on `objectId`: one kept from an earlier command taken up
   * by its nonce, if there is one, and kept for the next try when this one fails (unless another
   * holder has it now, a 409: it expired and was taken). A lease an earlier server left for the
   * same object is taken up by its nonce too, by one command of this server.
   */
  async take(client: FlyClient, cfg: FlyConfig, ttlS: number, machine: string, objectId: string): Promise<HeldLease> {
    // Taken out before the call: of two commands on the machine at once, one takes it up.
    const kept = this.kept.get(machine);
    this.kept.delete(machine);
    const description = leaseDescription(this.server, hex32(this.random), objectId);
    try {
      return await client.lease(cfg.app, cfg.machineId, ttlS, kept ?? { description });
    } catch (e) {
      const left = e instanceof LeaseHeldError && !kept ? e.holder : null;
      if (left && leftByEarlier(left.description, this.server, objectId) && !this.takenUp.has(left.description)) {
        this.takenUp.add(left.description);
        return this.takeUp(client, cfg, ttlS, machine, { nonce: left.nonce, description });
      }
      if (kept) this.keepUnlessTaken(e, machine, kept);
      throw e;
    }
  }

  /** A lease whose release failed: the next command on the machine takes it up by its nonce. */
  unreleased(machine: string, held: HeldLease): void {
    this.kept.set(machine, held);
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

/** A random name, in hex. */
const hex32 = (random: () => number) => Math.floor(random() * 2 ** 32).toString(16);

/**
 * A lease's description: the server that took it (a random name per driver, so per server
 * process), the command, and the object it was taken for.
 */
const leaseDescription = (server: string, command: string, objectId: string) =>
  `vigil lifecycle governor (${server}-${command}) for object ${objectId}`;

const DESCRIBED = /^vigil lifecycle governor \(([0-9a-f]+)-[0-9a-f]+\) for object (.*)$/s;

/**
 * A lease an earlier server took for this object and left: one server governs a database, so a
 * lease for this object under another server's name is no live command's. This server's own
 * leases are left to its own bookkeeping (the driver's `unreleased`).
 */
function leftByEarlier(holder: string, server: string, objectId: string): boolean {
  const m = DESCRIBED.exec(holder);
  return m !== null && m[1] !== server && m[2] === objectId;
}
