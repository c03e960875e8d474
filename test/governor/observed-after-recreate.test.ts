// An exit the driver reports for an object that is deleted, and created again under its id,
// before the report's turn in the mailbox comes, is the old object's: the new one, whose compute
// never ran, is not told it (GET would show another object's exit as its own).

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

test("an exit of a deleted object's compute, reported while its id is being created again, is not the new object's", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "on-demand", memory: { work: { pending: 1 } } });
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.state).toBe("active");

  // The mailbox is busy (a request before them); a DELETE and a PUT that creates the object
  // again wait there, and the old compute exits meanwhile: its report waits behind them.
  let release: (() => void) | null = null;
  const busy = s.governor.exclusive("o1", () => new Promise<void>((r) => (release = r)));
  while (!release) await new Promise<void>((r) => setImmediate(r));
  const deleted = s.governor.deleteObject("o1");
  const created = s.governor.putObject("o1", { policy: "on-demand" });
  s.driver.crash("o1", "stopped", true);
  (release as () => void)();
  await busy;
  expect(await deleted).toBe(true);
  expect((await created).created).toBe(true);
  await s.advance(0);

  const o = (await s.governor.getObject("o1"))!;
  expect(o.state).toBe("dormant");
  expect(o.substrate.observed).toBeNull();
});

test("an exit of a deleted object's compute, reported after the DELETE ended and before a PUT queued behind it, is not the new object's", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "on-demand", memory: { work: { pending: 1 } } });
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.state).toBe("active");

  // The mailbox holds: a request, the DELETE, another request (held until the exit is reported)
  // and a PUT that creates the object again. The exit comes once the DELETE has ended.
  const hold = () => {
    let release: (() => void) | null = null;
    const done = s!.governor.exclusive("o1", () => new Promise<void>((r) => (release = r)));
    return { done, release: () => (release as unknown as () => void)(), held: () => release !== null };
  };
  const first = hold();
  while (!first.held()) await new Promise<void>((r) => setImmediate(r));
  const deleted = s.governor.deleteObject("o1");
  const second = hold();
  const created = s.governor.putObject("o1", { policy: "on-demand" });
  first.release();
  expect(await deleted).toBe(true);
  while (!second.held()) await new Promise<void>((r) => setImmediate(r));
  s.driver.crash("o1", "stopped", true);
  second.release();
  await second.done;
  expect((await created).created).toBe(true);
  await s.advance(0);

  const o = (await s.governor.getObject("o1"))!;
  expect(o.state).toBe("dormant");
  expect(o.substrate.observed).toBeNull();

  // The new object's own compute is observed as ever.
  await s.governor.postFacts("o1", { work: { pending: 1 } });
  await s.advance(0);
  const active = (await s.governor.getObject("o1"))!;
  expect(active.state).toBe("active");
  s.driver.crash("o1", "stopped", true);
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.lastDecisionId).not.toBe(active.lastDecisionId);
});

test("an exit of the old compute, reported while a PUT binds the object to other compute, is not the new binding's", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "on-demand", memory: { work: { pending: 1 } } });
  await s.advance(0);
  await s.governor.postFacts("o1", { work: { pending: 0 } });
  await s.advance(0);
  const asleep = (await s.governor.getObject("o1"))!;
  expect(asleep.state).toBe("dormant");
  expect(asleep.substrate.observed?.status).toBe("suspended");

  let release: (() => void) | null = null;
  const busy = s.governor.exclusive("o1", () => new Promise<void>((r) => (release = r)));
  while (!release) await new Promise<void>((r) => setImmediate(r));
  const rebound = s.governor.putObject("o1", {
    policy: "on-demand",
    substrate: { driver: "simulated", config: { startMs: 5 } },
  });
  s.driver.crash("o1", "stopped", true);
  (release as () => void)();
  await busy;
  expect((await rebound).object.substrate.observed).toBeNull();
  await s.advance(0);

  const o = (await s.governor.getObject("o1"))!;
  expect(o.state).toBe("dormant");
  expect(o.substrate.config).toEqual({ startMs: 5 });
  expect(o.substrate.observed).toBeNull();
});

test("an exit of the old compute, reported while a rebinding PUT is stopping it, is not the new binding's", async () => {
  s = await makeServices();
  await s.governor.putObject("o1", { policy: "on-demand", memory: { work: { pending: 1 } } });
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.state).toBe("active");

  // The old compute exits on its own just as the PUT's turn stops it: the report comes during
  // the PUT's turn, and waits behind it.
  const driver = s.driver;
  const release = driver.release.bind(driver);
  driver.release = async (t, mode) => {
    driver.crash("o1", "stopped", true);
    return release(t, mode);
  };
  const rebound = await s.governor.putObject("o1", {
    policy: "on-demand",
    substrate: { driver: "simulated", config: { startMs: 5 } },
  });
  driver.release = release;
  expect(rebound.object.substrate.observed).toBeNull();
  await s.advance(0);

  const o = (await s.governor.getObject("o1"))!;
  expect(o.substrate.config).toEqual({ startMs: 5 });
  expect(o.substrate.observed?.reason).not.toBe("simulated crash");
});
