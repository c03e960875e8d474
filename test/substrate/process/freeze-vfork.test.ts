// A freeze watches the members it read before its SIGSTOP, not all of /proc (freeze-cost.test.ts).
// Found in a review: a shell that vfork()s between that read and the signal waits in `D` for a
// child the watch did not know, stopped before it could exec; the freeze counted the parent as
// running, never read the tree again, and failed after its 10 s (dash vforks its simple
// commands: under load, suspends of ordinary shell loops failed). The children of a member in
// `D` now join the watch, and where the kernel does not list children, the read of the whole tree
// every 100 ms finds them (not a read at every check, which spun). Here a C program vforks on
// SIGUSR1, sent just after the freeze's read, and its child blocks opening a FIFO nobody writes,
// so the parent stays in `D`.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { groupStats, isStopped, procfs, readStat, settle } from "../../../src/substrate/process/proc.ts";
import { eventually, WAIT_MS } from "../../helpers/eventually.ts";
import { ProcessGroupTree } from "../../../src/substrate/process/tree.ts";
import { countProcScans, hideProcChildren } from "../../helpers/proc-scans.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
let dir: string | null = null;
afterEach(() => {
  killGroups(groups);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

const SOURCE = `#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
static volatile sig_atomic_t go = 0;
static void on(int s) { (void)s; go = 1; }
int main(int argc, char **argv) {
  signal(SIGUSR1, on);
  mkfifo(argv[1], 0600);
  while (!go) pause();
  if (vfork() == 0) { open(argv[1], O_RDONLY); _exit(0); }
  for (;;) pause();
}
`;

test.skipIf(!procfs).each([
  ["its children are listed: it joins the watch", true],
  ["its children are not listed (no CONFIG_PROC_CHILDREN): the next read of the tree finds it", false],
])("a member that vforks between the freeze's read and its SIGSTOP, and %s", async (_, listed) => {
  const pid = await vforking();

  // Right after the freeze's first read of /proc: the vfork, and its parent in `D`. Waited for
  // there, within the read (the event loop cannot turn), until the kernel has run the program's
  // handler and its vfork, bounded in real time, not by a count of reads.
  const scans = countProcScans((n) => {
    if (n !== 1) return;
    process.kill(pid, "SIGUSR1");
    const end = performance.now() + WAIT_MS;
    while (readStat(pid)?.state !== "D" && performance.now() < end);
  });
  const unlisted = listed ? null : hideProcChildren();
  const frozen = await new ProcessGroupTree(pid).freeze();
  unlisted?.();
  scans.restore();
  const stats = groupStats(pid);
  expect(stats.map((s) => s.state)).toEqual(["D", "T"]);
  expect(frozen).toBe(true);
  expect(stats.filter(isStopped).map((s) => s.ppid)).toEqual([pid]);
  // Two reads a round of the freeze (ten rounds, as the parent stays in `D`), and one every
  // 100 ms while it waits.
  expect(scans.count).toBeLessThanOrEqual(40);
});

test.skipIf(!procfs).each([
  ["listed", true],
  ["not listed", false],
])(
  "a wait on a tree with a member in `D`, its children %s, reads all of /proc only every 100 ms",
  async (_, listed) => {
    // Found in review: where children could not be listed, every check of the members read all of
    // /proc while one was in `D` (hundreds of reads a second, for the 10 s a killed tree is given).
    const pid = await vforking();
    process.kill(pid, "SIGUSR1");
    expect(await eventually(() => readStat(pid)?.state === "D")).toBe(true);
    const scans = countProcScans();
    if (!listed) hideProcChildren();
    expect(
      await settle(
        () => groupStats(pid),
        (s) => s.length === 0,
        500,
      ),
    ).toBeNull();
    expect(scans.count).toBeGreaterThanOrEqual(2);
    expect(scans.count).toBeLessThanOrEqual(8);
  },
);

/** The C program, started and waiting for its SIGUSR1. */
async function vforking(): Promise<number> {
  dir = mkdtempSync(join(tmpdir(), "vigil-vfork-"));
  writeFileSync(join(dir, "vf.c"), SOURCE);
  const binary = join(dir, "vf");
  expect(spawnSync("cc", ["-O0", "-o", binary, join(dir, "vf.c")]).status).toBe(0);
  const leader = spawn(binary, [join(dir, "fifo")], { detached: true, stdio: "ignore" });
  const pid = leader.pid as number;
  groups.push(pid);
  expect(await eventually(() => readStat(pid)?.state === "S")).toBe(true);
  return pid;
}
