// What the tests need from Debian beyond Node: chromium (the dashboard's browser tests) and tini
// (the Docker image's init, run as PID 1 by the orphans test). A fresh CI machine has neither:
// as root they are installed with apt-get, once, before any test file runs (test/setup);
// without root nothing is installed, and the tests that need one fail saying what to install.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** A program a test runs, at the path Debian's package installs it. */
export type DebianProgram = { path: string; pkg: string; neededBy: string };

export const CHROMIUM: DebianProgram = { path: "/usr/bin/chromium", pkg: "chromium", neededBy: "the dashboard tests" };
export const TINI: DebianProgram = { path: "/usr/bin/tini", pkg: "tini", neededBy: "the Docker image's init test" };

/**
 * Makes sure `program` is installed: as root, installs its package with apt-get when it is
 * missing; otherwise fails saying what to install.
 */
export function ensureDebianProgram(program: DebianProgram, uid = process.getuid?.()): void {
  const { path, pkg, neededBy } = program;
  if (existsSync(path)) return;
  if (uid !== 0) throw new Error(`${neededBy} need ${path}: install Debian's package (sudo apt-get install -y ${pkg})`);
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", pkg]]) {
    const r = spawnSync("apt-get", args, {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (${r.status ?? r.signal}); install ${pkg}`);
  }
  if (!existsSync(path)) throw new Error(`apt-get installed ${pkg}, but ${path} is still missing`);
}
