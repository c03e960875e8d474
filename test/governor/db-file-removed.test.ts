// The database file removed under a running server (a clean-up script, a volume swapped): SQLite
// in WAL mode goes on writing to the open file, and says nothing. Every fact was acknowledged,
// and the lease renewed, into a file no one would open again; a server started meanwhile made a
// new database at the path and governed beside this one. Now each write is a 503 that changed
// nothing, /readyz says so, and the lease's renewals fail until it is lost.

import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import type { LeaseHolder } from "../../src/core/store.ts";
import { LEASE_RENEW_MS, LEASE_TTL_MS } from "../../src/governor/lease.ts";
import { createApp } from "../../src/http/app.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-removed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a database file removed under the server: facts are 503s that changed nothing, /readyz is a 503, and the lease is lost", async () => {
  const file = join(dir, "vigil.db");
  const store = new LibsqlStore({ url: `file:${file}` });
  const lost: (LeaseHolder | null)[] = [];
  const identity = { owner: "a", host: "host-a", pid: 100, alive: () => true };
  const s = await makeServices({ store, lease: { identity, onLost: (h) => lost.push(h) } });
  try {
    const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
    await s.governor.putObject("w1", { policy: "queue-worker" });
    const facts = () =>
      app.request("/v1/objects/w1/facts", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ facts: { queue: { depth: 1 } } }),
      });
    // Each renewal of the lease, to wait for its answer.
    const renewals: Promise<unknown>[] = [];
    const claim = store.claimLease.bind(store);
    store.claimLease = (...args) => {
      const renewal = claim(...args);
      renewals.push(renewal.catch(() => {}));
      return renewal;
    };

    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix);
    const res = await facts();
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    // Said as it is: not a lock or a full disk, which waiting may end.
    const { detail } = (await res.json()) as { detail: string };
    expect(detail).toContain("its file was removed or replaced since this server opened it");
    expect(detail).not.toContain("locked by another program");
    expect((await s.governor.getObject("w1"))?.memoryVersion).toBe(0);
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toContain("SQLITE_READONLY_DBMOVED");

    // No renewal goes through: the lease runs out, and the server stops governing.
    for (let t = 0; t < LEASE_TTL_MS; t += LEASE_RENEW_MS) {
      await s.advance(LEASE_RENEW_MS);
      await Promise.all(renewals);
    }
    expect(lost).toEqual([null]);
  } finally {
    await s.close();
  }
});
