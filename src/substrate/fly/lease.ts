// The names of Vigil's machine leases on Fly: a lease's description says which server took it,
// for which command and which object, so that the next server can tell a lease an earlier one
// left behind (it stopped before releasing it) from another holder's.

/** A random name, in hex. */
export const hex32 = (random: () => number) => Math.floor(random() * 2 ** 32).toString(16);

/**
 * A lease's description: the server that took it (a random name per driver, so per server
 * process), the command, and the object it was taken for.
 */
export const leaseDescription = (server: string, command: string, objectId: string) =>
  `vigil lifecycle governor (${server}-${command}) for object ${objectId}`;

const DESCRIBED = /^vigil lifecycle governor \(([0-9a-f]+)-[0-9a-f]+\) for object (.*)$/s;

/**
 * A lease an earlier server took for this object and left: one server governs a database, so a
 * lease for this object under another server's name is no live command's. This server's own
 * leases are left to its own bookkeeping (the driver's `unreleased`).
 */
export function leftByEarlier(holder: string, server: string, objectId: string): boolean {
  const m = DESCRIBED.exec(holder);
  return m !== null && m[1] !== server && m[2] === objectId;
}
