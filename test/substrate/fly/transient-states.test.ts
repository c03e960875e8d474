// Fly's states in motion besides starting, stopping and suspending (fly.io/docs/machines/
// machine-states): `creating`, `restarting`, `updating` and `replacing` are waited out (a deploy
// updating a machine for a minute and a half does not fail a wake), and a machine going away
// (`destroying`, `launch_failed`, on its way to `destroyed`) is done for a stop at once and a
// start of it fails at once, not after five minutes of waits.
import { afterEach, describe, expect, test } from "vitest";
import type { FlyState } from "./fake.ts";
import { MACHINE, rig, settle, T0, type Rig } from "./rig.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

/** The machine in `state` now, and in `then` after `ms` of virtual time. */
async function moving(state: FlyState, then: FlyState, ms = 90_000) {
  r = await rig();
  const m = r.fake.machines.get(MACHINE)!;
  m.state = state;
  r.clock.setTimeout(() => (m.state = then), ms);
  return m;
}

const actions = () => r.fake.requests.map((q) => q.action);

describe("a state whose end a wait cannot name is read again until it settles", () => {
  test.each(["updating", "replacing", "creating"] as const)(
    "a start meeting a machine %s for 90 s starts it once it is stopped",
    async (state) => {
      await moving(state, "stopped");
      const res = await settle(r.run(r.driver.start(r.target())));
      expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running", state: "started" } });
      expect(r.clock.now() - T0).toBeGreaterThanOrEqual(90_000);
      expect(actions()).toContain("start");
    },
  );

  test("a stop meeting a machine updating for 90 s stops it once it is started again", async () => {
    await moving("updating", "started");
    const res = await settle(r.run(r.driver.stop(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "stopped" } });
    expect(actions()).toContain("stop");
  });

  test("a restarting machine is waited for until started: a start then sends nothing", async () => {
    await moving("restarting", "started", 30_000);
    const res = await settle(r.run(r.driver.start(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
    expect(actions()).not.toContain("start");
    expect(r.fake.requests.some((q) => q.action === "wait" && q.query.state === "started")).toBe(true);
  });

  test.each([
    ["start", (): Promise<unknown> => r.driver.start(r.target())],
    ["release(stop)", (): Promise<unknown> => r.driver.release!(r.target(), "stop")],
  ] as const)("%s of a machine stuck updating is a retryable failure after 300 s of reads", async (_, call) => {
    await moving("updating", "updating");
    const res = await settle(r.run(call()));
    expect(res).toEqual({
      ok: false,
      e: expect.stringContaining("machine is still updating after 300 s"),
      retryable: true,
    });
    // One read a second for five minutes (and the first), not five rounds of it (25 minutes).
    expect(r.clock.now() - T0).toBe(300_000);
    expect(actions().filter((a) => a === "get")).toHaveLength(301);
    expect(actions().filter((a) => a !== "get")).toEqual([]);
  });

  test("the reads have their own bound: a machine starting for 240 s, then updating for 90 s, is started", async () => {
    await moving("starting", "updating", 240_000);
    const m = r.fake.machines.get(MACHINE)!;
    r.clock.setTimeout(() => (m.state = "stopped"), 330_000);
    const res = await settle(r.run(r.driver.start(r.target())));
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, v: { status: "running" } });
  });

  test("a machine moving between updating and starting is read once a second for 300 s in all, over the rounds", async () => {
    await moving("updating", "starting", 100_000);
    const m = r.fake.machines.get(MACHINE)!;
    const flip = () => {
      m.state = m.state === "updating" ? "starting" : "updating";
      r.clock.setTimeout(flip, 100_000);
    };
    r.clock.setTimeout(flip, 200_000);
    const res = await settle(r.run(r.driver.start(r.target())));
    expect(res).toMatchObject({ ok: false, retryable: true });
    expect(actions().filter((a) => a === "get").length).toBeLessThanOrEqual(300 + 30);
  });

  test("observe does not wait on a machine updating: it is unknown for now", async () => {
    await moving("updating", "stopped");
    expect((await r.run(r.driver.observe(r.target()))).status).toBe("unknown");
    expect(actions()).toEqual(["get"]);
  });
});

describe("a machine going away: nothing runs there, and it will not start", () => {
  test.each(["destroying", "launch_failed"] as const)(
    "%s: stop, suspend and release(stop) are done at once, without waiting",
    async (state) => {
      await moving(state, state);
      const calls: (() => Promise<unknown>)[] = [
        () => r.driver.stop(r.target()),
        () => r.driver.suspend(r.target()),
        () => r.driver.release!(r.target(), "stop"),
      ];
      for (const call of calls) {
        const res = await settle(r.run(call()));
        expect(res, JSON.stringify(res)).toMatchObject({ ok: true });
      }
      expect(r.clock.now()).toBe(T0);
      expect(actions().filter((a) => a !== "get")).toEqual([]);
    },
  );

  test.each(["destroying", "launch_failed"] as const)("%s: a start fails at once, not retried", async (state) => {
    await moving(state, state);
    const res = await settle(r.run(r.driver.start(r.target())));
    expect(res).toEqual({ ok: false, e: expect.stringContaining(`machine is ${state}`), retryable: false });
    expect(actions()).toEqual(["get"]);
  });

  test.each(["destroying", "launch_failed"] as const)("%s: observed as stopped", async (state) => {
    await moving(state, "destroyed", 5_000);
    expect((await r.run(r.driver.observe(r.target()))).status).toBe("stopped");
  });

  test.each(["destroying", "launch_failed"] as const)(
    "%s for days (a dead host's machine): observed as stopped at once, without a wait",
    async (state) => {
      await moving(state, state);
      expect(await r.run(r.driver.observe(r.target()))).toMatchObject({ status: "stopped", state });
      // Nothing a wait could tell changes the status: every reconciliation pass would spend
      // its 10 s (and a request) on each such object.
      expect(r.clock.now()).toBe(T0);
      expect(actions()).toEqual(["get"]);
    },
  );
});
