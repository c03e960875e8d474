// A process whose main thread ends with pthread_exit() while another thread runs on is alive,
// but /proc/<pid>/stat of its leader reads `Z` (found in review). The driver took it for exited:
// observe said stopped, a suspend waited for ever on an exit event that never came (and the
// object's start, stop and release behind it), its group was never signalled, and after a
// restart it was not adopted, so a second copy was started beside it. Here a C program (the
// suite compiles C elsewhere, freeze-vfork.test.ts) starts a thread and ends its main thread.

import { spawnSync } from "node:child_process";
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import type { DriverTarget } from "../../../src/substrate/driver.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { environ, procfs, readStat } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { killGroups } from "../../helpers/process.ts";

const SOURCE = `#include <pthread.h>
#include <unistd.h>
static void *work(void *arg) { (void)arg; for (;;) pause(); return 0; }
int main(void) {
  pthread_t t;
  pthread_create(&t, 0, work, 0);
  pthread_exit(0);
}
`;

const compiler = ["cc", "gcc"].find((cc) => spawnSync(cc, ["--version"]).status === 0);
const title = compiler
  ? "a process whose main thread has exited"
  : "a process whose main thread has exited (skipped: no C compiler, cc or gcc, to build one)";

let dir = "";
let binary = "";
const groups: number[] = [];
const drivers: ProcessDriver[] = [];

beforeAll(() => {
  if (!compiler || !procfs) return;
  dir = mkdtempSync(join(tmpdir(), "vigil-mainexit-"));
  writeFileSync(join(dir, "mainexit.c"), SOURCE);
  binary = join(dir, "mainexit");
  expect(spawnSync(compiler, ["-O", "-pthread", "-o", binary, join(dir, "mainexit.c")]).status).toBe(0);
});
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  killGroups(groups);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Field 3 of /proc/<pid>/stat as the kernel writes it, and field 20 (the thread count). */
function rawStat(pid: number): { state: string; threads: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, threads: Number(fields[17]) };
  } catch {
    return null;
  }
}

/** The states of `pid`'s threads other than its leader. */
function otherThreads(pid: number): string[] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .filter((tid) => tid !== String(pid))
    .map((tid) => {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      return text.slice(text.lastIndexOf(")") + 2).split(" ")[0]!;
    });
}

describe.skipIf(!compiler || !procfs)(title, () => {
  const target = (objectId = "mt"): DriverTarget => ({ objectId, config: { command: binary, graceMs: 1000 } });

  /** Starts the program and waits until its main thread has exited (its leader reads `Z`). */
  async function started(d: ProcessDriver, t: DriverTarget): Promise<number> {
    const o = await d.start(t);
    const pid = o.pid as number;
    groups.push(pid);
    expect(await eventually(() => rawStat(pid)?.state === "Z")).toBe(true);
    expect(rawStat(pid)?.threads).toBe(2);
    // The thread runs on into its pause().
    expect(await eventually(() => otherThreads(pid)[0] === "S")).toBe(true);
    return pid;
  }

  test("is running; it is suspended, resumed and stopped as a whole", async () => {
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = target();
    const pid = await started(d, t);
    expect(readStat(pid)?.state).toBe("S");

    const observed = await d.observe(t);
    expect(observed).toMatchObject({ status: "running", pid, processes: [{ pid }] });
    // The leader shows no memory of its own: the process's is read through its other thread.
    expect(observed.rssBytes).toBeGreaterThan(0);

    expect(await d.suspend(t)).toMatchObject({ status: "suspended", pid });
    expect(otherThreads(pid)).toEqual(["T"]);
    expect(await d.start(t)).toMatchObject({ status: "running", pid });
    // Stopped no more: it may still be running (R) on its way back into its pause() (S).
    expect(otherThreads(pid)).toEqual([expect.stringMatching(/^[RS]$/)]);
    expect(await eventually(() => otherThreads(pid)[0] === "S")).toBe(true);

    expect(await d.stop(t)).toMatchObject({ status: "stopped", pid, signal: "SIGTERM" });
    expect(rawStat(pid)).toBeNull();
  });

  test("is adopted after a restart, not taken for gone (and started again beside itself)", async () => {
    const clock = new VirtualClock(0);
    const a = new ProcessDriver({ clock });
    drivers.push(a);
    const t = target();
    const pid = await started(a, t);
    const before = await a.observe(t);
    await a.close();

    const b = new ProcessDriver({ clock });
    drivers.push(b);
    expect(await b.adopt(t, before)).toMatchObject({ status: "running", pid, reason: "adopted after restart" });
    expect(await b.start(t)).toMatchObject({ status: "running", pid });
  });

  test("a tree whose start was never recorded is taken back by its mark, though its leader reads no environment", async () => {
    // The leader's /proc/<pid>/environ is refused (ESRCH) once its main thread has exited: the
    // mark is in its threads' environment, and a scan that read the leader's alone found none.
    const clock = new VirtualClock(0);
    const a = new ProcessDriver({ clock });
    drivers.push(a);
    // The id is this process's: adoption looks over all of /proc for the marks, where another run
    // of this file at once on the machine has its own tree marked with the same start action.
    const t = target(`mt-unrecorded-${process.pid}`);
    const pid = await started(a, { ...t, action: "act_mt1" }); // the server dies before recording it
    expect(environ(pid)).toContain(`VIGIL_OBJECT_ID=mt-unrecorded-${process.pid}`);

    const b = new ProcessDriver({ clock });
    drivers.push(b);
    expect(await b.adopt(t, null, ["act_mt1"])).toMatchObject({ status: "running", pid });
  });

  test("a child /proc shows exited whose exit event does not come holds the object's turn only so long", async () => {
    // A reading of /proc that takes the live process for gone, as the leader's own did.
    const clock = new VirtualClock(0);
    const d = new ProcessDriver({ clock });
    drivers.push(d);
    const t = target();
    const pid = await started(d, t);
    const undo = misread(pid);

    let outcome: unknown = "pending";
    void d.suspend(t).then(
      (o) => (outcome = o),
      (e: unknown) => (outcome = e),
    );
    // The wait for the exit event is bounded on the clock.
    expect(await eventually(() => clock.waiting === 1)).toBe(true);
    expect(outcome).toBe("pending");
    await clock.advance(10_000);
    expect(outcome).toMatchObject({ name: "DriverError", retryable: true });
    expect(String(outcome)).toContain(`process ${pid} reads as exited`);

    // Read rightly again, the process is still governed.
    undo();
    expect(await d.suspend(t)).toMatchObject({ status: "suspended", pid });
  });
});

/** Makes /proc/<pid>/stat read as that of a process that has exited (state Z, one thread). */
function misread(pid: number): () => void {
  const original = fs.readFileSync;
  const file = `/proc/${pid}/stat`;
  (fs as unknown as { readFileSync: unknown }).readFileSync = (path: unknown, ...rest: unknown[]) => {
    const text = (original as (...a: unknown[]) => unknown)(path, ...rest);
    if (path !== file || typeof text !== "string") return text;
    const head = text.slice(0, text.lastIndexOf(")") + 2);
    const fields = text.slice(head.length).split(" ");
    fields[0] = "Z";
    fields[17] = "1";
    return head + fields.join(" ");
  };
  syncBuiltinESMExports();
  let undone = false;
  const undo = () => {
    if (undone) return;
    undone = true;
    (fs as unknown as { readFileSync: unknown }).readFileSync = original;
    syncBuiltinESMExports();
  };
  onTestFinished(undo);
  return undo;
}
