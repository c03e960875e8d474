// Under the governor, across a restart: a server stopped while a Fly command held the machine's
// lease (`lease: true`) left that lease behind. The next server, on the same database, carries
// out what is pending and what it is asked under it: the lease is taken up by its nonce, not met
// as another holder's until it expires (which ran the outbox's tries out and failed the object).
import { afterEach, expect, test } from "vitest";
import { seededRandom } from "../../src/core/random.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { FlyDriver } from "../../src/substrate/fly/driver.ts";
import { DEFAULT_FLY_RETRY } from "../../src/substrate/fly/retry.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { startFlyFake, type FlyFake } from "../substrate/fly/fake.ts";
import { countingFetch, quiet, T0 } from "../substrate/fly/rig.ts";

const MACHINE = "1ea5e000000001";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  closers.length = 0;
});

/** One Fly (the fake) and one database, on one virtual clock, shared by the servers of a test. */
async function world() {
  const clock = new VirtualClock(T0);
  const fake = await startFlyFake({ clock, machines: [MACHINE] });
  closers.push(() => fake.close());
  return { clock, fake, store: new MemoryStore() };
}

/**
 * A server: a governor with the fly driver. `dies` says at which request its connection to Fly
 * goes silent for good (as a server killed mid-command: nothing of it reaches Fly any more).
 */
async function server(
  w: { clock: VirtualClock; fake: FlyFake; store: MemoryStore },
  seed: number,
  dies?: (url: string) => boolean,
) {
  const counting = countingFetch();
  let dead = false;
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (dies?.(String(input))) dead = true;
    return dead ? new Promise(() => {}) : counting.fetch(input, init);
  };
  const policies = new PolicyRegistry(() => w.clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const driver = new FlyDriver({
    clock: w.clock,
    token: w.fake.token,
    fetch,
    apiUrls: [w.fake.url],
    random: seededRandom(seed),
  });
  const governor = new Governor({
    store: w.store,
    policies,
    clock: w.clock,
    drivers: [driver],
    random: seededRandom(seed),
  });
  await governor.start();
  closers.push(() => governor.close());
  // A delete holds the object's mailbox while it waits for Fly: idle() would wait for it too.
  const wire = () => quiet(counting, w.fake);
  const advance = async (seconds: number) => {
    for (let i = 0; i < seconds; i++)
      await w.clock.advance(1_000, () => quiet(counting, w.fake, () => governor.idle()));
  };
  const run = async <T>(call: Promise<T>): Promise<T> => {
    let done = false;
    void call.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < 600 && !done; i++) await w.clock.advance(1_000, wire);
    return call;
  };
  return { governor, advance, run, dead: () => dead };
}

const substrate = (fake: FlyFake) => ({
  driver: "fly",
  config: { app: fake.app, machineId: MACHINE, apiUrl: fake.url, lease: true },
});

test("killed while its start waited for the machine: the next server's pending start succeeds, the object is active", async () => {
  const w = await world();
  const first = await server(w, 1, (url) => url.includes("/wait"));
  await first.governor.putObject("agent-0", { policy: "on-demand", substrate: substrate(w.fake) });
  await first.governor.postFacts("agent-0", { work: { pending: 1 } });
  await first.advance(30);
  expect(first.dead()).toBe(true);
  expect(w.fake.machines.get(MACHINE)!.lease).not.toBeNull();
  void first.governor.close();

  const next = await server(w, 7);
  await next.advance(120);
  expect((await next.governor.getObject("agent-0"))!.state).toBe("active");
  expect(w.fake.machines.get(MACHINE)!.state).toBe("started");
  expect(w.fake.machines.get(MACHINE)!.lease).toBeNull();
});

test("a lease whose release failed before the restart: the next server's DELETE stops the machine", async () => {
  const w = await world();
  const first = await server(w, 1);
  await first.governor.putObject("agent-0", { policy: "on-demand", substrate: substrate(w.fake) });
  w.fake.faults.add({ action: "lease-release", status: 503, times: DEFAULT_FLY_RETRY.attempts });
  await first.governor.postFacts("agent-0", { work: { pending: 1 } });
  await first.advance(30);
  expect((await first.governor.getObject("agent-0"))!.state).toBe("active");
  expect(w.fake.machines.get(MACHINE)!.lease).not.toBeNull();
  void first.governor.close();

  const next = await server(w, 7);
  expect(await next.run(next.governor.deleteObject("agent-0", "stop"))).toBe(true);
  expect(w.fake.machines.get(MACHINE)!.state).toBe("stopped");
  expect(w.fake.machines.get(MACHINE)!.lease).toBeNull();
});
