// The fly driver over real HTTP against the local Fly fake (fake.ts), both on one virtual
// clock. Time moves only when every request in flight is parked on that clock (a wait, a slow
// reply), so backoff, Retry-After and transitions are exact and nothing sleeps.

import { expect, onTestFinished } from "vitest";
import { DriverError, type DriverTarget } from "../../../src/substrate/driver.ts";
import { FlyDriver, type FlyDriverOptions } from "../../../src/substrate/fly/driver.ts";
import { flush, VirtualClock } from "../../../src/timers/clock.ts";
import { REQUEST_ID_HEADER, startFlyFake, type FlyFake, type FlyFakeOptions, type FlyState } from "./fake.ts";
import { seededRandom } from "../../../src/core/random.ts";
import type { Store } from "../../../src/core/store.ts";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { RULES_DIR } from "../../helpers/services.ts";

export const MACHINE = "3d8d9016b26789";
export const T0 = Date.parse("2025-06-01T00:00:00Z");
/** How far `run` moves the clock, at most, waiting for a driver call: 20,000 steps of 250 ms. */
const STEPS = 20_000;
const STEP_MS = 250;

/**
 * A fetch that tags each request with an id (REQUEST_ID_HEADER) and reads its body before
 * answering, so that `quiet` knows which round trips are still on the wire.
 */
export interface CountingFetch {
  fetch: typeof fetch;
  /** Ids of the requests sent and not yet answered (or aborted). */
  inflight: ReadonlySet<string>;
}

export function countingFetch(): CountingFetch {
  const inflight = new Set<string>();
  let next = 0;
  const counted: typeof fetch = async (input, init) => {
    const id = String(++next);
    inflight.add(id);
    try {
      const headers = new Headers(init?.headers);
      headers.set(REQUEST_ID_HEADER, id);
      const res = await fetch(input, { ...init, headers });
      const body = await res.arrayBuffer();
      return new Response([204, 205, 304].includes(res.status) ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } finally {
      inflight.delete(id);
    }
  };
  return { fetch: counted, inflight };
}

/**
 * Waits (in real time: these are real HTTP round trips) until every request in flight is
 * parked on the fake's virtual clock; a request that never parks nor finishes fails the test.
 * `also` runs first each round (a governor's idle(), say).
 */
export async function quiet(counting: CountingFetch, fake: FlyFake, also?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  const parked = () => [...counting.inflight].every((id) => fake.parkedIds.has(id));
  for (;;) {
    await also?.();
    await flush();
    if (parked()) {
      await also?.();
      await flush();
      if (parked()) return;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `not quiet after 10 s: requests ${[...counting.inflight].join(", ")} in flight, ${[...fake.parkedIds].join(", ")} parked`,
      );
  }
}

export interface Rig {
  clock: VirtualClock;
  fake: FlyFake;
  driver: FlyDriver;
  /** The counting fetch the clock waits on; give it to any other driver under test. */
  fetch: typeof fetch;
  target: (config?: Record<string, unknown>) => DriverTarget;
  /** Awaits a driver call, moving the clock whenever everything in flight waits on it. */
  run<T>(call: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function rig(
  options: { driver?: Partial<FlyDriverOptions>; fake?: FlyFakeOptions; state?: FlyState } = {},
): Promise<Rig> {
  const clock = new VirtualClock(T0);
  const fake = await startFlyFake({
    clock,
    random: seededRandom(7),
    machines: [{ id: MACHINE, state: options.state ?? "stopped" }],
    ...options.fake,
  });
  const counting = countingFetch();
  const driver = new FlyDriver({
    clock,
    token: fake.token,
    random: seededRandom(11),
    fetch: counting.fetch,
    apiUrls: [fake.url],
    ...options.driver,
  });
  const settle = () => quiet(counting, fake);
  return {
    clock,
    fake,
    driver,
    fetch: counting.fetch,
    target: (config = {}) => ({
      objectId: "obj-1",
      config: { app: fake.app, machineId: MACHINE, apiUrl: fake.url, ...config },
    }),
    run: async (call) => {
      let settled = false;
      call.then(
        () => (settled = true),
        () => (settled = true),
      );
      await settle();
      for (let i = 0; i < STEPS && !settled; i++) await clock.advance(STEP_MS, settle);
      if (!settled)
        throw new Error(`the driver call did not settle within ${(STEPS * STEP_MS) / 1000} s of virtual time`);
      return call;
    },
    close: async () => {
      await driver.close();
      await fake.close();
    },
  };
}

/** A driver call's outcome as a value: what it resolved to, or its error's message and retryability. */
export const settle = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ ok: true as const, v }),
    (e: Error & { retryable?: boolean }) => ({ ok: false as const, e: e.message, retryable: e.retryable }),
  );

/** The driver's rejection, asserted to be a DriverError. */
export async function rejection(call: Promise<unknown>): Promise<DriverError> {
  const e = await call.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DriverError);
  return e as DriverError;
}

/**
 * A rig closed when the test ends (after its afterEach hooks), which then checks that every
 * request the driver made followed Fly's document.
 */
export async function openRig(options?: Parameters<typeof rig>[0]): Promise<Rig> {
  const r = await rig(options);
  onTestFinished(async () => {
    await r.close();
    expect(r.fake.violations, "every request the driver made follows the spec").toEqual([]);
  });
  return r;
}

/**
 * A governor with the fly driver against `fake` on `clock`, over `store`, the driver allowing
 * `apiUrls` (default: the fake's address); `settle` waits until the wire and the governor are
 * quiet. The caller closes the governor.
 */
export async function flyGovernor(
  clock: VirtualClock,
  fake: FlyFake,
  options: { store?: Store; apiUrls?: string[] } = {},
): Promise<{ governor: Governor; counting: CountingFetch; settle: () => Promise<void> }> {
  const counting = countingFetch();
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadDirectory(RULES_DIR)).toEqual([]);
  const driver = new FlyDriver({
    clock,
    token: fake.token,
    fetch: counting.fetch,
    apiUrls: options.apiUrls ?? [fake.url],
    random: () => 0.5,
  });
  const store = options.store ?? new MemoryStore();
  const governor = new Governor({ store, policies, clock, drivers: [driver], random: () => 0.5 });
  await governor.start();
  return { governor, counting, settle: () => quiet(counting, fake, () => governor.idle()) };
}
