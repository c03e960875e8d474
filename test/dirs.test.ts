// Directories made a level at a time (src/dirs.ts), as `mkdir -p` would, on real files.

import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { makeDirs } from "../src/dirs.ts";

const root = mkdtempSync(join(tmpdir(), "vigil-dirs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const code = (f: () => void) => {
  try {
    f();
    return "made";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
};

test("makes every missing level, and an existing directory (or a link to one) is fine", () => {
  const deep = join(root, "a", "b", "c");
  expect(code(() => makeDirs(deep))).toBe("made");
  expect(statSync(deep).isDirectory()).toBe(true);
  expect(code(() => makeDirs(deep))).toBe("made");
  symlinkSync(join(root, "a"), join(root, "link"));
  expect(code(() => makeDirs(join(root, "link", "b", "d")))).toBe("made");
  expect(statSync(join(root, "a", "b", "d")).isDirectory()).toBe(true);
});

test("a file or a dangling link in the way is an error, as for mkdir -p", () => {
  writeFileSync(join(root, "file"), "");
  symlinkSync(join(root, "nowhere"), join(root, "dangling"));
  expect(code(() => makeDirs(join(root, "file")))).toBe("EEXIST");
  expect(code(() => makeDirs(join(root, "file", "below")))).toBe("EEXIST");
  expect(code(() => makeDirs(join(root, "dangling")))).toBe("EEXIST");
});

test("under /proc it fails at once (Node's recursive mkdir never returns there)", () => {
  expect(code(() => makeDirs("/proc/vigil-nope/data"))).toBe("ENOENT");
  mkdirSync(join(root, "plain"));
  expect(code(() => makeDirs(join(root, "plain")))).toBe("made");
});
