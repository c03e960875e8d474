// A server started without PATH looks a bare command up in /usr/bin and /bin (DEFAULT_PATH, as
// Node's spawn does), and so does the check made before the cgroup's wrapper shell runs. Found
// in a review: the shell itself (dash) looked it up in its own default path, /usr/local/sbin and
// /usr/local/bin first, so a command also there ran from there, with VIGIL_PROCESS_CGROUP only.
// Real processes: the spawn runs as a program of its own (test/helpers/spawn-no-path.ts), with
// no PATH, in a mount namespace where a directory of this test's, holding a `sleep` of its own,
// is bound over /usr/local/bin (as root: the host's /usr/local/bin is not touched). A plain file
// stands in for `cgroup.procs`, as in cgroup-wrapper.test.ts.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { killGroups } from "../../helpers/process.ts";

// A mount namespace of the test's own: root, and a kernel and machine that let it make one.
const canUnshare = process.getuid?.() === 0 && spawnSync("unshare", ["-m", "true"]).status === 0;

const groups: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  killGroups(groups);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The command line `sleep` ran with, spawned without PATH, through the wrapper or directly. */
function started(how: "wrapped" | "direct"): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-nopath-"));
  dirs.push(dir);
  const local = join(dir, "local-bin");
  writeFileSync(join(dir, "cgroup.procs"), "");
  mkdirSync(local);
  // Another `sleep`, as an admin's /usr/local/bin may hold: it runs /usr/bin/sleep for 31 s.
  writeFileSync(join(local, "sleep"), "#!/bin/sh\nexec /usr/bin/sleep 31\n");
  chmodSync(join(local, "sleep"), 0o755);
  const script =
    'mount --bind "$1" /usr/local/bin && exec env -u PATH "$2" --import tsx test/helpers/spawn-no-path.ts "$3" "$4"';
  const r = spawnSync(
    "unshare",
    ["-m", "sh", "-c", script, "sh", local, process.execPath, join(dir, "cgroup.procs"), how],
    { encoding: "utf8", timeout: 30_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  const { pid, cmdline } = JSON.parse(r.stdout) as { pid: number; cmdline: string };
  groups.push(pid);
  return cmdline;
}

test.skipIf(!canUnshare)(
  "without PATH, the cgroup's wrapper shell runs the command spawn runs, from /usr/bin or /bin",
  () => {
    // Without the wrapper: Node's spawn finds /usr/bin/sleep.
    expect(started("direct")).toBe("sleep\u000030\u0000");
    expect(started("wrapped")).toBe("sleep\u000030\u0000");
  },
);
