// The lease's fence in the database: a file database's writer thread checks, inside each
// transaction, that the lease row still names the owner this store holds it as. A write this
// server hands over after another server took the lease (before its own renewal learns of the
// loss, or while it was stalled) does not go in.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { VigilError } from "../../src/core/errors.ts";
import type { LeaseHolder } from "../../src/core/store.ts";
import { LEASE_TTL_MS } from "../../src/governor/lease.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";

const dirs: string[] = [];
const stores: LibsqlStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Two stores on one database file, as two servers would have. */
async function twoServers(): Promise<[LibsqlStore, LibsqlStore]> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-fence-"));
  dirs.push(dir);
  const url = `file:${join(dir, "v.db")}`;
  const a = new LibsqlStore({ url });
  await a.migrate();
  const b = new LibsqlStore({ url });
  await b.migrate();
  stores.push(a, b);
  return [a, b];
}

const holder = (owner: string, now: number): LeaseHolder => ({
  owner,
  host: "h",
  pid: 1,
  acquiredAt: now,
  renewedAt: now,
  expiresAt: now + LEASE_TTL_MS,
});

async function refusedAsLost(write: Promise<unknown>): Promise<void> {
  const e = await write.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VigilError);
  expect((e as VigilError).kind).toBe("unavailable");
  expect((e as VigilError).message).toMatch(/lease was lost/);
}

describe("a file database's writes are fenced by the lease row", () => {
  test("a store's writes go in while it holds the lease, and not once another server took it", async () => {
    const [a, b] = await twoServers();
    expect((await a.claimLease(holder("a", START), START))?.owner).toBe("a");
    await a.setArmedSchedules("p", "before");
    expect(await b.armedSchedules("p")).toBe("before");

    // The lease ran out (a stalled server): the other one takes it; `a` has not noticed yet.
    const later = START + 2 * LEASE_TTL_MS;
    expect((await b.claimLease(holder("b", later), later))?.owner).toBe("b");
    await refusedAsLost(a.setArmedSchedules("p", "after"));
    await refusedAsLost(a.deleteObject("missing").then(() => a.setArmedSchedules("q", "x")));
    expect(await b.armedSchedules("p")).toBe("before");
    expect(await b.armedSchedules("q")).toBeNull();
    // The new holder's own writes go in.
    await b.setArmedSchedules("p", "b's");
    expect(await a.armedSchedules("p")).toBe("b's");
  });

  test("a store that never took the lease (a tool, a test) writes without the check", async () => {
    const [a, b] = await twoServers();
    expect((await b.claimLease(holder("b", START), START))?.owner).toBe("b");
    await a.setArmedSchedules("p", "x");
    expect(await b.armedSchedules("p")).toBe("x");
  });

  test("a released lease fences nothing: the store writes again without it", async () => {
    const [a] = await twoServers();
    await a.claimLease(holder("a", START), START);
    await a.releaseLease("a");
    await a.setArmedSchedules("p", "x");
    expect(await a.armedSchedules("p")).toBe("x");
  });

  test("a fact taken by a governor whose lease another server holds now is refused and stored nowhere", async () => {
    const [a, b] = await twoServers();
    const lost: (LeaseHolder | null)[] = [];
    const s = await makeServices({
      store: a,
      lease: {
        identity: { owner: "a", host: "h", pid: 1, alive: () => true },
        onLost: (h) => lost.push(h),
      },
    });
    stores.splice(stores.indexOf(a), 1); // closed by s.close()
    await s.governor.putObject("w1", { policy: "queue-worker" });
    await s.advance(0);
    const before = await b.getObject("w1");
    const decisions = (await b.listDecisions("w1", 100)).length;

    await b.claimLease(holder("b", START), START, "a"); // `a` is taken for dead by another server
    await refusedAsLost(s.governor.postFacts("w1", { queue: { depth: 3 } }));
    expect(lost).toEqual([]); // its own renewal has not come round yet: the database refused it
    expect(await b.getObject("w1")).toEqual(before);
    expect((await b.listDecisions("w1", 100)).length).toBe(decisions);
    await s.close();
  });
});

describe("policy versions written by the last holder between a server's migrate and its claim", () => {
  /** The example policies, queue-worker at `version`. */
  function rules(version: string): string {
    const dir = mkdtempSync(join(tmpdir(), "vigil-fence-rules-"));
    dirs.push(dir);
    cpSync(RULES_DIR, dir, { recursive: true });
    const file = join(dir, "queue-worker.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), version }));
    return dir;
  }

  test("are read at the claim: its own decisions get versions of their own, and read back as they were made", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-fence-"));
    dirs.push(dir);
    const url = `file:${join(dir, "v.db")}`;
    const identity = (owner: string) => ({ owner, host: "h", pid: 1, alive: () => true });
    const a = new LibsqlStore({ url });
    // Server a has migrated (and read the versions: none) when server b, which held the lease,
    // writes a decision of queue-worker v-b and stops; then a claims the lease.
    const claim = a.claimLease.bind(a);
    let first = true;
    a.claimLease = async (...args) => {
      if (first) {
        first = false;
        const b = await makeServices({
          store: new LibsqlStore({ url }),
          rulesDir: rules("v-b"),
          lease: { identity: identity("b"), onLost: () => {} },
        });
        await b.governor.putObject("w-b", { policy: "queue-worker" });
        await b.close();
      }
      return claim(...args);
    };
    const s = await makeServices({
      store: a,
      rulesDir: rules("v-a"),
      lease: { identity: identity("a"), onLost: () => {} },
    });
    try {
      const made = (await s.governor.putObject("w-a", { policy: "queue-worker" })).object.lastDecisionId!;
      const mine = await s.store.getDecision(made);
      expect(mine?.policy.version).toBe("v-a");
      const [theirs] = await s.store.listDecisions("w-b", 10);
      expect(theirs?.policy.version).toBe("v-b");
    } finally {
      await s.close();
    }
  });
});
