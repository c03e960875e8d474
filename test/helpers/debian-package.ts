// What the tests need from Debian beyond Node: chromium (the dashboard's browser tests) and tini
// (the Docker image's init, run as PID 1 by the orphans test). A fresh CI machine has neither:
// as root they are installed with apt-get, once, before any test file runs (test/setup), and
// one test run at a time (several vitest runs at once on one machine each find them missing);
// without root nothing is installed, and the tests that need one fail saying what to install.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** A program a test runs, at the path Debian's package installs it. */
export type DebianProgram = { path: string; pkg: string; neededBy: string };

export const CHROMIUM: DebianProgram = { path: "/usr/bin/chromium", pkg: "chromium", neededBy: "the dashboard tests" };
export const TINI: DebianProgram = { path: "/usr/bin/tini", pkg: "tini", neededBy: "the Docker image's init test" };

/** How packages are installed: apt-get, one install at a time across the test runs of this machine. */
export type Installer = { aptGet: string; lock: string };

/** apt-get, under a lock of the tests' own: several vitest runs at once each find a program missing. */
export const APT: Installer = { aptGet: "apt-get", lock: "/run/lock/vigil-tests-apt.lock" };

/** How long an install waits for another run's (and for dpkg's own lock, held by another apt). */
const WAIT_S = 900;

/**
 * Installs under the lock, looking for the program again once the lock is held: a run that found
 * it missing while another run was installing it installs nothing. apt-get waits for dpkg's lock
 * too (an apt-get run by hand): without it, a second apt-get fails at once ("Could not get lock").
 */
const INSTALL = `
path=$1 pkg=$2 apt=$3 wait=$4
[ -e "$path" ] && exit 0
"$apt" -o DPkg::Lock::Timeout="$wait" update || exit 201
"$apt" -o DPkg::Lock::Timeout="$wait" install -y --no-install-recommends "$pkg" || exit 202
`;

/**
 * Makes sure `program` is installed: as root, installs its package with apt-get when it is
 * missing (after any other test run installing at the same time); otherwise fails saying what
 * to install.
 */
export function ensureDebianProgram(program: DebianProgram, uid = process.getuid?.(), apt: Installer = APT): void {
  const { path, pkg, neededBy } = program;
  if (existsSync(path)) return;
  if (uid !== 0) throw new Error(`${neededBy} need ${path}: install Debian's package (sudo apt-get install -y ${pkg})`);
  const r = spawnSync(
    "flock",
    [
      "--wait",
      String(WAIT_S),
      "--conflict-exit-code",
      "203",
      apt.lock,
      "sh",
      "-c",
      INSTALL,
      "sh",
      path,
      pkg,
      apt.aptGet,
      String(WAIT_S),
    ],
    { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
  );
  const failed: Record<number, string> = {
    201: "apt-get update failed",
    202: `apt-get install -y --no-install-recommends ${pkg} failed`,
    203: `another test run held ${apt.lock} for ${WAIT_S} s`,
  };
  if (r.status !== 0) {
    // flock itself missing or killed, or the script's shell: said as it is.
    const why = failed[r.status ?? -1] ?? `installing ${pkg} failed (${r.error?.message ?? r.status ?? r.signal})`;
    throw new Error(`${why}; install ${pkg}`);
  }
  if (!existsSync(path)) throw new Error(`apt-get installed ${pkg}, but ${path} is still missing`);
}
