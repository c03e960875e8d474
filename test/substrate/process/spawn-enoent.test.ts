// A start that fails ENOENT said "(no such command, or no such working directory)" whatever was
// missing (found in review): for a script saved with CRLF line ends, or one whose `#!` names an
// interpreter that is not installed, the command and the cwd are both there, and the words sent
// the operator looking for the wrong thing. The hint now says what is not there: the working
// directory, the interpreter (and the CRLF line ends that make `/bin/sh\r` of `/bin/sh`), or the
// command. Each case both directly and through the cgroup's shell, whose `cgroup.procs` is stood
// in for by a plain file (cgroup-spawn-fail.test.ts). Real spawns.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ProcessConfig } from "../../../src/substrate/process/config.ts";
import { spawnProcess } from "../../../src/substrate/process/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-enoent-"));
const bin = join(dir, "bin");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  mkdirSync(bin);
  for (const [name, text] of [
    ["crlf", "#!/bin/sh\r\nexit 0\r\n"],
    ["no-interpreter", "#!/nonexistent/python9\nexit 0\n"],
  ] as const) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  // A program built for another system (musl's, or another distribution's loader): its ELF header
  // names a loader this one does not have. execve() fails ENOENT though the file is there.
  writeFileSync(join(bin, "foreign"), elfNaming("/nonexistent/ld-vigil.so.1"));
  chmodSync(join(bin, "foreign"), 0o755);
  // Names the kernel does not look up as a loader: an empty one ("\0\0", opening the cwd: EACCES),
  // and one not ended by a NUL (ENOEXEC, and Node then runs the file with /bin/sh, as exec does).
  writeFileSync(join(bin, "empty-loader"), elfNaming("\0"));
  writeFileSync(join(bin, "unended-loader"), elfNaming("/nonexistent/ld-vigil.so.1", ""));
  // Program headers the kernel refuses (ENOEXEC) before it reads them: more than 64 KiB of them,
  // or of another size than its own.
  const many = elfNaming("/nonexistent/ld-vigil.so.1");
  many.writeUInt16LE(0xffff, 56); // e_phnum
  writeFileSync(join(bin, "many-headers"), many);
  const wide = elfNaming("/nonexistent/ld-vigil.so.1");
  wide.writeUInt16LE(64, 54); // e_phentsize
  writeFileSync(join(bin, "odd-headers"), wide);
  for (const name of ["empty-loader", "unended-loader", "many-headers", "odd-headers"])
    chmodSync(join(bin, name), 0o755);
});

/**
 * The least ELF executable for this machine whose program header names `loader` (PT_INTERP): the
 * kernel looks the loader up before it maps anything, so nothing else is needed to fail so.
 */
function elfNaming(loader: string, end = "\0"): Buffer {
  const machine = { x64: 62, arm64: 183 }[process.arch as string];
  if (machine === undefined) throw new Error(`no ELF machine number for ${process.arch}`);
  const path = Buffer.from(`${loader}${end}`, "latin1");
  const elf = Buffer.alloc(64 + 56 + path.length);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(elf); // ELF, 64-bit, little-endian, version 1
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(machine, 18);
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(64n, 32); // e_phoff
  elf.writeUInt16LE(64, 52); // e_ehsize
  elf.writeUInt16LE(56, 54); // e_phentsize
  elf.writeUInt16LE(1, 56); // e_phnum
  elf.writeUInt32LE(3, 64); // PT_INTERP
  elf.writeBigUInt64LE(120n, 64 + 8); // p_offset
  elf.writeBigUInt64LE(BigInt(path.length), 64 + 32); // p_filesz
  elf.writeBigUInt64LE(BigInt(path.length), 64 + 40); // p_memsz
  path.copy(elf, 120);
  return elf;
}

/** The message a spawn of `config` fails with (null when it starts). */
async function failure(config: Partial<ProcessConfig>, procs?: string): Promise<string | null> {
  return spawnProcess({ graceMs: 1000, ...config } as ProcessConfig, "o1", procs).then(
    (child) => {
      child.kill("SIGKILL");
      return null;
    },
    (e: unknown) => (e as Error).message,
  );
}

test.each<[string, () => Partial<ProcessConfig>, string]>([
  [
    "a script saved with CRLF line ends",
    () => ({ command: join(bin, "crlf") }),
    `the interpreter its #! line names is not there: "/bin/sh\\r"; the script has CRLF line ends`,
  ],
  [
    "a script whose interpreter is not installed, found on the PATH",
    () => ({ command: "no-interpreter", env: { PATH: bin } }),
    `the interpreter its #! line names is not there: "/nonexistent/python9"`,
  ],
  [
    "a program whose ELF header names a loader that is not installed",
    () => ({ command: join(bin, "foreign") }),
    `the program loader its ELF header names is not there: "/nonexistent/ld-vigil.so.1"`,
  ],
  ["a command that is not there", () => ({ command: join(bin, "nothing") }), "no such command"],
  [
    "a bare command on no directory of the PATH",
    () => ({ command: "nothing", env: { PATH: bin } }),
    "no such command on the PATH",
  ],
  [
    "a working directory that is not there",
    () => ({ command: "/bin/sh", cwd: join(dir, "nowhere") }),
    `no such working directory: "${join(dir, "nowhere")}"`,
  ],
])("%s", async (_what, make, missing) => {
  const config = make();
  for (const procs of [undefined, join(dir, "procs")]) {
    const message = await failure(config, procs);
    expect(message).toMatch(/ ENOENT \(.*\)$/);
    expect(message!.slice(message!.indexOf(" ENOENT (") + " ENOENT (".length, -1)).toBe(missing);
  }
});

// The cgroup shell's look-up read such a name as a loader: the empty one was refused as a value of
// the config that cannot be passed (ERR_INVALID_ARG_VALUE, from the NUL in the path it stat'ed),
// and the unended one (and a loader named in program headers the kernel refuses) as a loader not
// there (ENOENT), where the same start without a cgroup runs.
test.each<[string, string, string | null]>([
  ["an ELF header naming an empty loader", "empty-loader", " EACCES"],
  ["an ELF header naming a loader without its NUL", "unended-loader", null],
  ["an ELF header giving more than 64 KiB of program headers", "many-headers", null],
  ["an ELF header giving program headers of another size", "odd-headers", null],
])("%s is started or refused as execve() does, through the cgroup's shell too", async (_what, name, refused) => {
  for (const procs of [undefined, join(dir, "procs")]) {
    const message = await failure({ command: join(bin, name), cwd: dir }, procs);
    if (refused === null) expect(message).toBeNull();
    else expect(message).toMatch(new RegExp(`${refused}$`));
  }
});
