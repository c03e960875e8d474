// Once, before any test file runs: installs what the tests need from Debian (chromium for the
// dashboard's browser tests, tini for the Docker image's init test) when it is missing and this
// is root (a fresh CI machine). apt-get can take a minute; here it runs outside every test and
// hook timeout, and never twice at once, even by two test runs (debian-package.ts holds a lock).
// Without root nothing is installed: the tests that need a program then fail saying what to install.

import { existsSync } from "node:fs";
import { CHROMIUM, ensureDebianProgram, TINI } from "../helpers/debian-package.ts";

export default function setup(): void {
  if (process.getuid?.() !== 0) return;
  for (const program of [CHROMIUM, TINI]) if (!existsSync(program.path)) ensureDebianProgram(program);
}
