// Two servers whose host names are the same but whose pids live in different PID namespaces:
// containers run with `--network host` (they take the host's name) or Kubernetes pods with
// `hostNetwork: true`, each with node as PID 1, on one volume; or one container restarted after
// a crash. A review found the second server taking the lease from a live first one (the same
// host and pid: taken for its own previous incarnation; or a pid its namespace lacks: taken for
// dead), and with `--restart unless-stopped` the two took it from each other for ever. Such a
// holder's pid says nothing: the server waits while its lease runs out, and is refused as soon
// as a renewal shows the holder alive.

import { describe, expect, test } from "vitest";
import type { LeaseHolder } from "../../src/core/store.ts";
import { Lease, LeaseHeldError, LEASE_RENEW_MS, LEASE_TTL_MS, type LeaseIdentity } from "../../src/governor/lease.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { flush, VirtualClock } from "../../src/timers/clock.ts";
import { START } from "../helpers/services.ts";

function setup() {
  const store = new MemoryStore();
  const clock = new VirtualClock(START);
  const lost: (LeaseHolder | null)[] = [];
  const waited: LeaseHolder[] = [];
  const lease = (identity: LeaseIdentity, signal?: AbortSignal) =>
    new Lease(
      store,
      clock,
      { identity, waiting: { signal, onWait: (h) => waited.push(h) } },
      (h) => lost.push(h),
      () => {},
    );
  return { store, clock, lost, waited, lease };
}

/** A server in PID namespace `ns` of host "shared": it sees only its own namespace's pids. */
const container = (owner: string, ns: string, pid = 1): LeaseIdentity => ({
  owner,
  host: "shared",
  pidNamespace: `pid:[${ns}]`,
  pid,
  alive: (p) => p === pid,
});

/** The row a server left when it was killed right after taking the lease. */
const crashed = (owner: string, host: string): LeaseHolder => ({
  owner,
  host,
  pid: 1,
  acquiredAt: START,
  renewedAt: START,
  expiresAt: START + LEASE_TTL_MS,
});

/** Settles a promise that may wait on the virtual clock: "pending" while it still waits. */
async function state<T>(p: Promise<T>): Promise<"pending" | "done" | "refused"> {
  let s: "pending" | "done" | "refused" = "pending";
  p.then(
    () => (s = "done"),
    () => (s = "refused"),
  );
  await flush();
  return s;
}

describe("a holder on this host name, in another PID namespace", () => {
  test.each([
    ["the same pid (both PID 1)", 1, 1],
    ["a pid this namespace does not have", 7, 9],
  ])("alive, with %s: the second server is refused at the holder's next renewal", async (_, a, b) => {
    const { store, clock, lost, waited, lease } = setup();
    const first = lease(container("a", "111", a));
    await first.acquire();
    expect((await store.lease())!.host).toBe("shared pid:[111]");

    const second = lease(container("b", "222", b)).acquire();
    expect(await state(second)).toBe("pending");
    expect(waited.map((h) => h.owner)).toEqual(["a"]);
    // The first renews at START + 4 s; the second looks at START + 5 s, sees it and gives up.
    await clock.advance(LEASE_RENEW_MS + 1_000);
    await expect(second).rejects.toThrow(LeaseHeldError);
    await expect(second).rejects.toThrow(/process \d+ on shared pid:\[111\] \(owner a/);
    await clock.advance(LEASE_TTL_MS);
    expect((await store.lease())!.owner).toBe("a");
    expect(lost).toEqual([]);
    await first.release();
  });

  test("gone (a container restarted after a crash): taken once its lease has run out, not before", async () => {
    const { store, clock, lease } = setup();
    await store.claimLease(crashed("a", "shared pid:[111]"), START); // killed: never renewed nor released
    const restarted = lease(container("b", "222")).acquire();
    await clock.advance(LEASE_TTL_MS - 1);
    expect(await state(restarted)).toBe("pending");
    expect((await store.lease())!.owner).toBe("a");
    await clock.advance(2);
    await restarted;
    expect((await store.lease())!.owner).toBe("b");
  });

  test("a signal cuts the wait short, and nothing is taken", async () => {
    const { store, lease } = setup();
    await lease(container("a", "111")).acquire();
    const stop = new AbortController();
    const waiting = lease(container("b", "222"), stop.signal).acquire();
    expect(await state(waiting)).toBe("pending");
    stop.abort(new Error("SIGTERM"));
    await expect(waiting).rejects.toThrow("SIGTERM");
    expect((await store.lease())!.owner).toBe("a");
  });

  test("a holder written without a namespace (an older Vigil) on this host name is waited for too", async () => {
    const { store, clock, lease } = setup();
    await store.claimLease(crashed("old", "shared"), START);
    const next = lease(container("b", "222")).acquire();
    expect(await state(next)).toBe("pending");
    await clock.advance(LEASE_TTL_MS + 1);
    await next;
    expect((await store.lease())!.owner).toBe("b");
  });

  test("in the same namespace a gone holder is replaced at once, and a live one refused at once", async () => {
    const { store, lease } = setup();
    await lease(container("a", "111", 5)).acquire();
    // Another server of namespace 111, where pid 5 is gone.
    await lease({ ...container("b", "111", 6), alive: () => false }).acquire();
    expect((await store.lease())!.owner).toBe("b");
    await expect(lease({ ...container("c", "111", 7), alive: () => true }).acquire()).rejects.toThrow(LeaseHeldError);
  });

  test("another host is refused at once, as before", async () => {
    const { lease } = setup();
    await lease(container("a", "111")).acquire();
    await expect(lease({ ...container("b", "111"), host: "elsewhere" }).acquire()).rejects.toThrow(LeaseHeldError);
  });

  // A review: the deadline was set from the time after the claim answered, so a server whose
  // claim was slow (a remote database) and whose renewals then failed went on governing past
  // the expiry of the row it wrote, while another server could take it.
  test("after the wait, the lease is lost when the row it claimed runs out, however slow that claim was", async () => {
    const { store, clock, lost, lease } = setup();
    await store.claimLease(crashed("a", "shared pid:[111]"), START);
    const claimTakesMs = 2_000;
    const real = store.claimLease.bind(store);
    let held = false;
    store.claimLease = async (claim, now, replacing) => {
      if (claim.owner !== "b") return real(claim, now, replacing);
      if (held) throw new Error("database unreachable"); // every renewal fails
      const r = await real(claim, now, replacing);
      if (r?.owner === "b") {
        held = true;
        await clock.advance(claimTakesMs);
      }
      return r;
    };
    const b = lease(container("b", "222"));
    const acquiring = b.acquire();
    await clock.advance(LEASE_TTL_MS + 1);
    await acquiring;
    const row = (await store.lease())!;
    expect(row.owner).toBe("b");
    // Lost at the moment the row runs out; another server may claim it only after that.
    await clock.advance(row.expiresAt - 1 - clock.now());
    expect(b.isHeld).toBe(true);
    await clock.advance(1);
    expect(b.isHeld).toBe(false);
    expect(lost).toEqual([null]);
  });
});
