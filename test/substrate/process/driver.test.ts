// The process driver under the shared contract and on its own: real child processes (this
// Node binary running a one-line script), signals, /proc, re-adoption after a restart. Nothing
// sleeps: children report over a unix socket, the grace period and the adoption watch run on a
// virtual clock, and waiting for a death is a /proc poll bounded in real time (eventually).

import { mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject, Observation } from "../../../src/core/types.ts";
import { DriverError, type DriverTarget } from "../../../src/substrate/driver.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { isGone, readStat } from "../../../src/substrate/process/proc.ts";
import { spawnFailure } from "../../../src/substrate/process/spawn.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { runDriverContract } from "../contract.ts";
import { eventually } from "../../helpers/eventually.ts";

/** Runs until killed. */
const IDLE = "setInterval(() => {}, 1000)";
/** Tells the beacon (a unix socket named by $BEACON) a message per connection. */
const SAY = `const say = (m) => require("node:net").connect(process.env.BEACON).end(m);`;
/** Keeps a token and a counter in memory; SIGUSR2 reports both. */
const COUNTER = `${SAY} const token = Math.random().toString(36).slice(2); let n = 0;
process.on("SIGUSR2", () => say(token + ":" + ++n)); ${IDLE}; say("ready");`;
/** Reports SIGTERM and carries on: only SIGKILL ends it. */
const STUBBORN = `${SAY} process.on("SIGTERM", () => say("term")); ${IDLE}; say("ready");`;

/** Kills what a test left running, but only the process an observation names (pid and start time). */
const leftovers: Observation[] = [];
function owned(o: Observation): Observation {
  leftovers.push(o);
  return o;
}
function killLeftovers(): void {
  for (const o of leftovers.splice(0)) {
    if (typeof o.pid !== "number" || readStat(o.pid)?.startTime !== o.startTime) continue;
    try {
      process.kill(o.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Waits for a pid to die: a /proc poll bounded in real time, for the kernel ends a process at the
 * machine's pace, not at that of this process's event loop (a count of its turns ran out first
 * on a loaded machine).
 */
async function untilGone(pid: number): Promise<void> {
  const gone = () => {
    const stat = readStat(pid);
    return !stat || isGone(stat);
  };
  if (!(await eventually(gone))) throw new Error(`process ${pid} did not die`);
}

/** A unix socket children report to, one message per connection. */
class Beacon {
  private readonly messages: string[] = [];
  private readonly waiting: ((m: string) => void)[] = [];
  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly path: string,
  ) {}

  static async open(): Promise<Beacon> {
    const dir = mkdtempSync(join(tmpdir(), "vigil-proc-"));
    const path = join(dir, "beacon.sock");
    const server = createServer();
    const beacon = new Beacon(server, dir, path);
    server.on("connection", (socket) => {
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (text += chunk));
      socket.on("end", () => beacon.push(text));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return beacon;
  }

  next(): Promise<string> {
    const m = this.messages.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private push(m: string): void {
    const w = this.waiting.shift();
    if (w) w(m);
    else this.messages.push(m);
  }
}

runDriverContract("process", async () => {
  const clock = new VirtualClock(0);
  const driver = new ProcessDriver({ clock });
  const target: DriverTarget = {
    objectId: "proc-1",
    config: { command: process.execPath, args: ["-e", IDLE], graceMs: 1000 },
  };
  return {
    driver,
    target,
    invalidConfigs: [
      [{}, "$.command"],
      [{ command: "" }, "$.command"],
      [{ command: "x", args: ["-v", 1] }, "$.args[1]"],
      [{ command: "x", env: { A: 1 } }, "$.env.A"],
      [{ command: "x", cwd: "" }, "$.cwd"],
      [{ command: "x", graceMs: -1 }, "$.graceMs"],
      [{ command: "x", graceMs: 1.5 }, "$.graceMs"],
      [{ command: "x", graceMs: 600_001 }, "$.graceMs"],
      [{ command: "x", shell: true }, "$.shell"],
    ],
    // The grace period is on the virtual clock, but these children die of SIGTERM.
    run: (call) => call,
    cleanup: async () => {
      owned(await driver.observe(target));
      killLeftovers();
      await driver.close();
    },
  };
});

describe("process driver", () => {
  let clock: VirtualClock;
  let beacon: Beacon;
  const drivers: ProcessDriver[] = [];
  const newDriver = (watchMs?: number) => {
    const d = new ProcessDriver({ clock, ...(watchMs === undefined ? {} : { watchMs }) });
    drivers.push(d);
    return d;
  };
  const target = (script: string, extra: JsonObject = {}, objectId = "job-1"): DriverTarget => ({
    objectId,
    config: { command: process.execPath, args: ["-e", script], env: { BEACON: beacon.path }, ...extra },
  });
  const nextObservation = (d: ProcessDriver) =>
    new Promise<[string, Observation]>((resolve) => d.onObservation((id, o) => resolve([id, o])));
  const pidOf = (o: Observation): number => {
    expect(typeof o.pid).toBe("number");
    return o.pid as number;
  };

  beforeEach(async () => {
    clock = new VirtualClock(Date.parse("2026-03-01T00:00:00Z"));
    beacon = await Beacon.open();
  });

  afterEach(async () => {
    killLeftovers();
    for (const d of drivers.splice(0)) await d.close();
    await beacon.close();
  });

  test("the observation of a started process carries pid, start time, boot id, pid namespace and what it keeps resident", async () => {
    const d = newDriver();
    const o = owned(await d.start(target(IDLE)));
    const pid = pidOf(o);
    expect(o).toEqual({
      status: "running",
      at: clock.now(),
      pid,
      startTime: readStat(pid)?.startTime,
      bootId: expect.any(String),
      pidNamespace: `${readlinkSync("/proc/self/ns/pid")}@${readStat(1)!.startTime}`,
      pgid: pid,
      processes: [{ pid, rssBytes: expect.any(Number) }],
      rssBytes: expect.any(Number),
    });
    expect(o.rssBytes).toBeGreaterThan(0);
    expect(await d.observe(target(IDLE))).toEqual({
      ...o,
      processes: [{ pid, rssBytes: expect.any(Number) }],
      rssBytes: expect.any(Number),
    });
  });

  test("suspend stops the same pid in memory; start resumes it with its memory intact", async () => {
    const d = newDriver();
    const t = target(COUNTER);
    const started = owned(await d.start(t));
    const pid = pidOf(started);
    expect(await beacon.next()).toBe("ready");
    process.kill(pid, "SIGUSR2");
    const [token, count] = (await beacon.next()).split(":");
    expect(count).toBe("1");

    const suspended = await d.suspend(t);
    expect(suspended).toMatchObject({ status: "suspended", pid, startTime: started.startTime });
    expect(readStat(pid)?.state).toBe("T");
    expect((await d.suspend(t)).status).toBe("suspended");

    const resumed = await d.start(t);
    expect(resumed).toMatchObject({ status: "running", pid, startTime: started.startTime });
    expect(readStat(pid)?.state).not.toBe("T");
    process.kill(pid, "SIGUSR2");
    expect(await beacon.next()).toBe(`${token}:2`);
  });

  test("two starts at once spawn one process", async () => {
    const d = newDriver();
    const t = target(IDLE);
    const [a, b] = await Promise.all([d.start(t), d.start(t)]);
    owned(a);
    owned(b);
    expect(b.pid).toBe(a.pid);
  });

  test("stop sends SIGTERM, and SIGKILL only once graceMs have passed on the clock", async () => {
    const d = newDriver();
    const calls: Observation[] = [];
    d.onObservation((_, o) => calls.push(o));
    const t = target(STUBBORN, { graceMs: 2000 });
    const pid = pidOf(owned(await d.start(t)));
    expect(await beacon.next()).toBe("ready");

    const stopping = d.stop(t);
    expect(await beacon.next()).toBe("term");
    await clock.advance(1999);
    expect(clock.waiting).toBe(1);
    expect(readStat(pid)?.state).not.toBe("Z");
    await clock.advance(1);
    expect(await stopping).toEqual({ status: "stopped", at: clock.now(), pid, exitCode: null, signal: "SIGKILL" });
    expect(clock.waiting).toBe(0);
    expect(calls).toEqual([]);
    expect(await d.observe(t)).toMatchObject({ status: "stopped", pid, signal: "SIGKILL" });
  });

  test("a suspended process is stopped by SIGTERM, without waiting for the grace period", async () => {
    const d = newDriver();
    const t = target(IDLE);
    const pid = pidOf(owned(await d.start(t)));
    await d.suspend(t);
    expect(await d.stop(t)).toMatchObject({ status: "stopped", pid, exitCode: null, signal: "SIGTERM" });
    expect(clock.waiting).toBe(0);
  });

  test("an exit of its own reaches the listeners at once, with the exit code", async () => {
    const d = newDriver();
    const seen = nextObservation(d);
    const t = target("process.exit(3)");
    const pid = pidOf(owned(await d.start(t)));
    const [id, o] = await seen;
    expect(id).toBe("job-1");
    expect(o).toEqual({ status: "stopped", at: clock.now(), pid, exitCode: 3, signal: null, reason: "exited" });
    expect(await d.observe(t)).toMatchObject({ status: "stopped", pid, exitCode: 3 });
  });

  test("a process killed from outside, even while suspended, is reported with its signal", async () => {
    const d = newDriver();
    const t = target(IDLE);
    const pid = pidOf(owned(await d.start(t)));
    await d.suspend(t);
    const seen = nextObservation(d);
    process.kill(pid, "SIGKILL");
    expect((await seen)[1]).toMatchObject({
      status: "stopped",
      pid,
      exitCode: null,
      signal: "SIGKILL",
      reason: "exited",
    });
    expect((await d.start(t)).pid).not.toBe(pid);
    owned(await d.observe(t));
  });

  test("a command that does not exist is a final DriverError", async () => {
    const d = newDriver();
    const configs: JsonObject[] = [
      { command: "/nonexistent/vigil-no-such-command" },
      { command: "vigil-no-such-command-on-path" },
      { command: process.execPath, cwd: "/nonexistent/vigil-no-such-dir" },
    ];
    for (const config of configs) {
      const failure = d.start({ objectId: "missing", config });
      await expect(failure).rejects.toBeInstanceOf(DriverError);
      await expect(failure).rejects.toMatchObject({ retryable: false });
    }
    expect((await d.observe({ objectId: "missing", config: {} })).status).toBe("stopped");
  });

  test("an invalid config refuses start with a final DriverError naming the field", async () => {
    const d = newDriver();
    const failure = d.start({ objectId: "bad", config: { command: "" } });
    await expect(failure).rejects.toMatchObject({ name: "DriverError", retryable: false });
    await expect(failure).rejects.toThrow("$.command");
  });

  test("a NUL character, which no process can be passed, is refused in the config, never quoted", async () => {
    const d = newDriver();
    const secret = "sk-live-0123456789\u0000";
    const configs: [JsonObject, string][] = [
      [{ command: process.execPath, env: { API_KEY: secret } }, "$.env.API_KEY"],
      [{ command: process.execPath, args: ["a\u0000b"] }, "$.args[0]"],
      [{ command: "node\u0000" }, "$.command"],
    ];
    for (const [config, path] of configs) {
      const failure = d.start({ objectId: "nul", config });
      await expect(failure).rejects.toMatchObject({ name: "DriverError", retryable: false });
      await expect(failure).rejects.toThrow(path);
      await expect(failure).rejects.not.toThrow("sk-live");
    }
    // And should Node refuse a value itself, its message (which quotes the value) is not passed on.
    const refused = Object.assign(
      new TypeError(`The property 'options.env['API_KEY']' must be... Received '${secret}'`),
      {
        code: "ERR_INVALID_ARG_VALUE",
      },
    );
    expect(spawnFailure("node", refused).message).toBe(
      "cannot start node: a value of the config cannot be passed to a process (ERR_INVALID_ARG_VALUE)",
    );
  });

  test("the child sees its config's env, not the server's", async () => {
    process.env.VIGIL_TEST_SECRET = "hunter2";
    try {
      const d = newDriver();
      const script = `${SAY} say([process.env.VIGIL_TEST_SECRET ?? "absent", process.env.GREETING, typeof process.env.PATH].join(","))`;
      owned(await d.start(target(script, { env: { BEACON: beacon.path, GREETING: "hello" } })));
      expect(await beacon.next()).toBe("absent,hello,string");
    } finally {
      delete process.env.VIGIL_TEST_SECRET;
    }
  });

  test("suspend and stop with nothing running are observed as stopped", async () => {
    const d = newDriver();
    const t = target(IDLE);
    expect((await d.suspend(t)).status).toBe("stopped");
    expect((await d.stop(t)).status).toBe("stopped");
  });

  describe("after a restart", () => {
    test("a new driver adopts a live process, governs it, and sees its exit", async () => {
      const a = newDriver();
      const t = target(COUNTER);
      const before = owned(await a.start(t));
      const pid = pidOf(before);
      expect(await beacon.next()).toBe("ready");
      await a.close();

      const b = newDriver(1000);
      const adopted = await b.adopt(t, before);
      expect(adopted).toMatchObject({
        status: "running",
        pid,
        startTime: before.startTime,
        reason: "adopted after restart",
      });
      expect((await b.observe(t)).status).toBe("running");
      expect(await b.suspend(t)).toMatchObject({ status: "suspended", pid });
      expect(readStat(pid)?.state).toBe("T");
      expect(await b.start(t)).toMatchObject({ status: "running", pid });
      process.kill(pid, "SIGUSR2");
      expect(await beacon.next()).toMatch(/:1$/);

      // Not its child: the exit is found by the watch on the clock, with no status to report.
      const seen = nextObservation(b);
      process.kill(pid, "SIGKILL");
      await untilGone(pid);
      await clock.advance(1000);
      expect((await seen)[1]).toEqual({
        status: "stopped",
        at: clock.now(),
        pid,
        exitCode: null,
        signal: null,
        reason: "exited",
      });
      expect((await b.observe(t)).status).toBe("stopped");
    });

    test("an adopted process is stopped with SIGTERM and its exit confirmed by the watch", async () => {
      const a = newDriver();
      const t = target(IDLE);
      const before = owned(await a.start(t));
      const pid = pidOf(before);
      await a.close();
      const b = newDriver(1000);
      const calls: Observation[] = [];
      b.onObservation((_, o) => calls.push(o));
      await b.adopt(t, before);

      const stopping = b.stop(t);
      await untilGone(pid);
      await clock.advance(1000);
      expect(await stopping).toMatchObject({ status: "stopped", pid, exitCode: null, signal: null });
      expect(calls).toEqual([]);
    });

    test("a pid whose start time, boot or pid namespace differs is neither adopted nor signalled", async () => {
      const a = newDriver();
      const t = target(IDLE);
      const before = owned(await a.start(t));
      const pid = pidOf(before);
      await a.close();
      const b = newDriver();
      const refused = { status: "stopped", reason: "not running after restart" };
      expect(await b.adopt(t, { ...before, startTime: (before.startTime as number) + 1 })).toMatchObject(refused);
      expect(await b.adopt(t, { ...before, bootId: "another-boot" })).toMatchObject(refused);
      expect(before.pidNamespace).toMatch(/^pid:\[\d+\]@\d+$/);
      expect(await b.adopt(t, { ...before, pidNamespace: "pid:[1]" })).toMatchObject(refused);
      // The same namespace number, freed and handed out again: another namespace all the same.
      const [inode] = (before.pidNamespace as string).split("@");
      expect(await b.adopt(t, { ...before, pidNamespace: `${inode}@1` })).toMatchObject(refused);
      expect(await b.adopt(t, { ...before, pidNamespace: "pid:[1]@1" })).toMatchObject(refused);
      expect((await b.observe(t)).status).toBe("stopped");
      expect((await b.stop(t)).status).toBe("stopped");
      expect((await b.suspend(t)).status).toBe("stopped");
      const stat = readStat(pid);
      expect(stat?.startTime).toBe(before.startTime);
      expect(stat?.state).toMatch(/^[RS]$/);
    });

    test("a tree recorded with the namespace's number alone (by an earlier Vigil) is adopted in that namespace", async () => {
      const a = newDriver();
      const t = target(IDLE);
      const before = owned(await a.start(t));
      await a.close();
      const [inode] = (before.pidNamespace as string).split("@");
      const b = newDriver();
      expect(await b.adopt(t, { ...before, pidNamespace: inode! })).toMatchObject({
        status: "running",
        pid: before.pid,
        reason: "adopted after restart",
      });
      const stopping = b.stop(t);
      await untilGone(pidOf(before));
      await clock.advance(1000);
      expect((await stopping).status).toBe("stopped");
    });

    test("a process that exited while the server was down is observed as stopped", async () => {
      const a = newDriver();
      const t = target(IDLE);
      const before = await a.start(t);
      await a.stop(t);
      await a.close();
      const b = newDriver();
      expect(await b.adopt(t, before)).toMatchObject({ status: "stopped", reason: "not running after restart" });
      expect(await b.adopt(t, null)).toMatchObject({ status: "stopped", reason: "not running after restart" });
      expect(await b.adopt(t, { status: "running", at: 0, pid: -1, startTime: 0 })).toMatchObject({
        status: "stopped",
      });
    });
  });
});
