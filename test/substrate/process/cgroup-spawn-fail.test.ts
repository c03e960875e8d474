// With VIGIL_PROCESS_CGROUP a shell moves itself into the cgroup and then execs the command, after
// a check that the command can be run: a script whose interpreter is missing passed that check,
// the shell's exec failed with 127, and the start was taken for a success followed by a crash
// (restarted up to the crash-loop limit) instead of failing for good, as it does without a cgroup.
// The cgroup's path is stood in for by a plain file: the shell writes its pid there as it would
// into `cgroup.procs`, so this runs on any machine.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DriverError } from "../../../src/substrate/driver.ts";
import type { ProcessConfig } from "../../../src/substrate/process/config.ts";
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

// Found in review: through the cgroup's shell, a command that is there but cannot be run (not
// executable, a directory) was reported ENOENT, "no such command", where a spawn without a
// cgroup says EACCES; and a cwd under a file, ENOENT for ENOTDIR. The check gives the code the
// spawn gives, each case run both ways here.
describe("a command or cwd that cannot be used fails through the cgroup's shell as it does directly", () => {
  const file = (name: string, text: string, mode: number) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };
  const bin = join(dir, "bin");
  const later = join(dir, "later");
  beforeAll(() => {
    mkdirSync(join(bin, "a-directory"), { recursive: true });
    mkdirSync(later, { recursive: true });
    file("bin/not-executable", "exit 0\n", 0o644);
    file("bin/in-both", "exit 0\n", 0o644);
    file("later/in-both", "#!/bin/sh\nexit 0\n", 0o755);
  });

  const code = async (config: ProcessConfig, procs?: string): Promise<string | null> => {
    const e = await spawnProcess(config, "o1", procs).then(
      (child) => {
        child.kill("SIGKILL");
        return null;
      },
      (e: unknown) => e,
    );
    if (e === null) return null;
    expect(e).toMatchObject({ name: "DriverError", retryable: false });
    // The code ends the message (`spawn <command> EACCES`), before ENOENT's hint.
    return / (E[A-Z]+)(?: \(.*\))?$/.exec((e as Error).message)?.[1] ?? (e as Error).message;
  };

  test.each<[string, () => Partial<ProcessConfig>, string | null]>([
    ["a file that is not executable", () => ({ command: file("plain", "exit 0\n", 0o644) }), "EACCES"],
    ["a directory", () => ({ command: bin }), "EACCES"],
    ["a path through a file", () => ({ command: join(file("plain2", "", 0o644), "x") }), "ENOTDIR"],
    ["a relative path to a file that is not executable", () => ({ command: "./not-executable", cwd: bin }), "EACCES"],
    [
      "a script whose interpreter is not executable",
      () => ({ command: file("script", `#!${join(dir, "plain")}\n`, 0o755) }),
      "EACCES",
    ],
    [
      "a script saved with CRLF line ends (its interpreter is `/bin/sh\\r`)",
      () => ({ command: file("crlf", "#!/bin/sh\r\nexit 0\r\n", 0o755) }),
      "ENOENT",
    ],
    [
      "a script whose interpreter, named relative to the cwd, is not there",
      () => ({ command: file("relative", "#!nowhere/sh\nexit 0\n", 0o755), cwd: dir }),
      "ENOENT",
    ],
    [
      "a script whose interpreter, named relative to the cwd, is there",
      () => ({ command: file("relative2", "#!../later/in-both\nexit 0\n", 0o755), cwd: bin }),
      null,
    ],
    ["on PATH, not executable", () => ({ command: "not-executable", env: { PATH: bin } }), "EACCES"],
    ["on PATH, a directory", () => ({ command: "a-directory", env: { PATH: bin } }), "EACCES"],
    ["on PATH, nowhere", () => ({ command: "vigil-nowhere", env: { PATH: bin } }), "ENOENT"],
    [
      "on PATH, not executable, then executable",
      () => ({ command: "in-both", env: { PATH: `${bin}:${later}` } }),
      null,
    ],
    ["a cwd that is a file", () => ({ command: "/bin/sh", cwd: file("plain3", "", 0o644) }), "ENOTDIR"],
    ["a cwd under a file", () => ({ command: "/bin/sh", cwd: join(file("plain4", "", 0o644), "x") }), "ENOTDIR"],
    ["a cwd that is not there", () => ({ command: "/bin/sh", cwd: join(dir, "nowhere") }), "ENOENT"],
  ])("%s", async (_what, make, expected) => {
    const config: ProcessConfig = { graceMs: 1000, ...make() } as ProcessConfig;
    expect(await code(config)).toBe(expected);
    expect(await code(config, join(dir, "procs3"))).toBe(expected);
  });
});

// Found in review: with no PATH in the server's environment (so none in the child's), spawn looks
// for a bare command where libuv does by default (/usr/bin, /bin), but the check made for the
// cgroup's shell searched only the cwd: `sleep` failed ENOENT there, and a command in the cwd
// passed it (and the shell's own search). Both ways agree now, each run with PATH unset here.
describe("with no PATH in the server's environment, a bare command is looked for as spawn does", () => {
  const cwd = join(dir, "no-path");
  beforeAll(() => {
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, "only-here"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(cwd, "only-here"), 0o755);
  });

  const outcome = async (command: string, procs?: string): Promise<number | string | null> => {
    const path = process.env.PATH;
    delete process.env.PATH;
    try {
      const child = await spawnProcess({ command, args: ["0"], cwd, graceMs: 1000 }, "o1", procs);
      return await new Promise((resolve) => child.once("exit", resolve));
    } catch (e) {
      return (e as Error).message;
    } finally {
      process.env.PATH = path;
    }
  };

  test.each([
    ["one in /usr/bin (sleep)", "sleep", 0],
    ["one only in the cwd", "only-here", expect.stringContaining("ENOENT")],
  ])("%s", async (_what, command, expected) => {
    expect(await outcome(command)).toEqual(expected);
    expect(await outcome(command, join(dir, "procs4"))).toEqual(expected);
  });
});
