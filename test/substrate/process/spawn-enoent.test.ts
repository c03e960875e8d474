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
});

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
