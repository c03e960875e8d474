// The tests' Debian programs: each is found where Debian installs it; when one is missing and the
// tests do not run as root, the tests that need it fail saying what to install (as root,
// test/setup installs it with apt-get before any test file runs).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { APT, CHROMIUM, ensureDebianProgram, TINI } from "./debian-package.ts";

test.each([CHROMIUM, TINI])("finds Debian's $pkg, or says what to install", (program) => {
  expect(() => ensureDebianProgram(program, 1000)).not.toThrow();
  expect(() => ensureDebianProgram({ ...program, path: `/nonexistent/${program.pkg}` }, 1000)).toThrow(
    `${program.neededBy} need /nonexistent/${program.pkg}: install Debian's package (sudo apt-get install -y ${program.pkg})`,
  );
});

/**
 * A directory with a stand-in for apt-get first on PATH, behaving as this machine's apt 2.6 does
 * without DPkg::Lock::Timeout: one install at a time by dpkg's frontend lock, another failing at
 * once (exit 100, "Could not get lock"). `install` runs `onInstall` (a shell command) under it.
 */
function standInApt(onInstall: string) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-apt-"));
  const script = `#!/bin/sh
echo "$*" >> "${dir}/calls"
case " $* " in *" install "*) ;; *) exit 0;; esac
exec 9>"${dir}/frontend"
flock -n 9 || { echo "E: Could not get lock ${dir}/frontend" >&2; exit 100; }
${onInstall}
`;
  writeFileSync(join(dir, "apt-get"), script, { mode: 0o755 });
  const program = { path: join(dir, "prog"), pkg: "prog", neededBy: "this test" };
  const installer = { ...APT, lock: join(dir, "install.lock") };
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  const calls = () =>
    existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : [];
  const done = () => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, program, installer, calls, done };
}

test("a run that finds a program missing while another run installs it waits for that install and installs nothing", async () => {
  const apt = standInApt(`touch "$(dirname "$0")/prog"`);
  try {
    // Another test run, mid-install: it holds the tests' install lock and dpkg's, and its
    // package's program appears when it is done.
    const other = spawn(
      "flock",
      [
        apt.installer.lock,
        "flock",
        join(apt.dir, "frontend"),
        "sh",
        "-c",
        `echo holding; sleep 2; touch "${apt.program.path}"`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => other.stdout.once("data", () => resolve()));
    expect(() => ensureDebianProgram(apt.program, 0, apt.installer)).not.toThrow();
    expect(existsSync(apt.program.path)).toBe(true);
    expect(apt.calls()).toEqual([]);
    await new Promise((resolve) => other.once("exit", resolve));
  } finally {
    apt.done();
  }
});

test("a package apt-get cannot install, or installs without the program, still fails saying so", () => {
  const refused = standInApt(`echo "E: Unable to locate package prog" >&2; exit 100`);
  try {
    expect(() => ensureDebianProgram(refused.program, 0, refused.installer)).toThrow(
      "apt-get install -y --no-install-recommends prog failed; install prog",
    );
    expect(refused.calls()).toHaveLength(2);
  } finally {
    refused.done();
  }
  const empty = standInApt("exit 0");
  try {
    expect(() => ensureDebianProgram(empty.program, 0, empty.installer)).toThrow(
      `apt-get installed prog, but ${empty.program.path} is still missing`,
    );
  } finally {
    empty.done();
  }
});
