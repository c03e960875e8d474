// The tests' Debian programs: each is found where Debian installs it; when one is missing and the
// tests do not run as root, the tests that need it fail saying what to install (as root,
// test/setup installs it with apt-get before any test file runs).

import { expect, test } from "vitest";
import { CHROMIUM, ensureDebianProgram, TINI } from "./debian-package.ts";

test.each([CHROMIUM, TINI])("finds Debian's $pkg, or says what to install", (program) => {
  expect(() => ensureDebianProgram(program, 1000)).not.toThrow();
  expect(() => ensureDebianProgram({ ...program, path: `/nonexistent/${program.pkg}` }, 1000)).toThrow(
    `${program.neededBy} need /nonexistent/${program.pkg}: install Debian's package (sudo apt-get install -y ${program.pkg})`,
  );
});
