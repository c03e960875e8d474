// With VIGIL_PROCESS_CGROUP a shell moves itself into the cgroup and then execs the command, after
// a check that the command can be run: a script whose interpreter is missing passed that check,
// the shell's exec failed with 127, and the start was taken for a success followed by a crash
// (restarted up to the crash-loop limit) instead of failing for good, as it does without a cgroup.
// The cgroup's path is stood in for by a plain file: the shell writes its pid there as it would
// into `cgroup.procs`, so this runs on any machine.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { DriverError } from "../../../src/substrate/driver.ts";
import { spawnProcess } from "../../../src/substrate/process/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-spawn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (name: string, interpreter: string) => {
  const file = join(dir, name);
  writeFileSync(file, `#!${interpreter}\nexit 0\n`);
  chmodSync(file, 0o755);
  return file;
};

test.each([
  ["through the cgroup's shell", join(dir, "procs")],
  ["directly", undefined],
])("a script whose interpreter is missing is a final ENOENT, %s", async (_how, procs) => {
  const failure = await spawnProcess(
    { command: script("bad", "/nonexistent/interpreter"), graceMs: 1000 },
    "o1",
    procs,
  ).then(
    (child) => {
      child.kill("SIGKILL");
      return null;
    },
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(DriverError);
  expect(failure).toMatchObject({ retryable: false, message: expect.stringContaining("ENOENT") });
});

test("a script whose interpreter is there starts through the cgroup's shell", async () => {
  const child = await spawnProcess({ command: script("good", "/bin/sh"), graceMs: 1000 }, "o1", join(dir, "procs2"));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  expect(code).toBe(0);
});
