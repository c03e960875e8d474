// A freeze watches the members it read before its SIGSTOP, not all of /proc (freeze-cost.test.ts).
// Found in a review: a shell that vfork()s between that read and the signal waits in `D` for a
// child the watch did not know, stopped before it could exec; the freeze counted the parent as
// running, never read the tree again, and failed after its 10 s (dash vforks its simple
// commands: under load, suspends of ordinary shell loops failed). The children of a member in
// `D` now join the watch. Here a C program vforks on SIGUSR1, sent just after the freeze's read,
// and its child blocks opening a FIFO nobody writes, so the parent stays in `D`.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { groupStats, isStopped, procfs, readStat, until } from "../../../src/substrate/process/proc.ts";
import { ProcessGroupTree } from "../../../src/substrate/process/tree.ts";
import { countProcScans, type ProcScans } from "../../helpers/proc-scans.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
let scans: ProcScans | null = null;
let dir: string | null = null;
afterEach(() => {
  scans?.restore();
  scans = null;
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

test.skipIf(!procfs)("a member that vforks between the freeze's read and its SIGSTOP: the tree is frozen", async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-vfork-"));
  writeFileSync(join(dir, "vf.c"), SOURCE);
  const binary = join(dir, "vf");
  expect(spawnSync("cc", ["-O0", "-o", binary, join(dir, "vf.c")]).status).toBe(0);
  const leader = spawn(binary, [join(dir, "fifo")], { detached: true, stdio: "ignore" });
  const pid = leader.pid as number;
  groups.push(pid);
  expect(await until(() => readStat(pid)?.state === "S", 5_000_000)).toBe(true);

  // Right after the freeze's first read of /proc: the vfork, and its parent in `D`.
  scans = countProcScans((n) => {
    if (n !== 1) return;
    process.kill(pid, "SIGUSR1");
    for (let i = 0; i < 5_000_000 && readStat(pid)?.state !== "D"; i++);
  });
  const frozen = await new ProcessGroupTree(pid).freeze();
  scans.restore();
  const stats = groupStats(pid);
  expect(stats.map((s) => s.state)).toEqual(["D", "T"]);
  expect(frozen).toBe(true);
  expect(stats.filter(isStopped).map((s) => s.ppid)).toEqual([pid]);
});
