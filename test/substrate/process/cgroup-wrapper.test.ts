// In a cgroup the tree is started through /bin/sh, which moves itself into the cgroup and execs
// the command. The shell sets variables of its own (PWD, and IFS, OPTIND when given) and
// drops names that are not shell identifiers: the child's environment is to be the one it gets
// without a cgroup, so the first are set back (or PWD unset) and the second refused in that mode.
// A plain file stands in for `cgroup.procs` (the shell only writes its pid there), so no real
// cgroup is needed.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { CgroupParent } from "../../../src/substrate/process/cgroup.ts";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { eventually } from "../../helpers/eventually.ts";
import { spawnProcess } from "../../../src/substrate/process/spawn.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { environOf, killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  killGroups(groups);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The environment `sleep` was exec'd with, started with or without the wrapper. */
async function envOf(wrapped: boolean, env: Record<string, string>): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-wrapper-"));
  dirs.push(dir);
  const procs = join(dir, "cgroup.procs");
  writeFileSync(procs, "");
  const config = { command: "sleep", args: ["30"], env, cwd: dir, graceMs: 1000 };
  const child = await spawnProcess(config, "env-1", wrapped ? procs : undefined);
  groups.push(child.pid!);
  const cmdline = () => {
    try {
      return readFileSync(`/proc/${child.pid}/cmdline`, "utf8");
    } catch {
      return "";
    }
  };
  expect(await eventually(() => cmdline().startsWith("sleep"))).toBe(true);
  if (wrapped) expect(readFileSync(procs, "utf8").trim()).toBe(String(child.pid));
  return environOf(child.pid!);
}

describe("the cgroup wrapper shell", () => {
  test.each([
    ["none of the shell's own variables", { A: "1", B: "two words; $HOME 'q' \"d\"" }],
    ["each of the shell's own variables", { A: "1", IFS: ",", OPTIND: "7", PWD: "/elsewhere" }],
    ["some of them", { OPTIND: "3", PWD: "/x" }],
    ["the largest OPTIND the shell reads", { OPTIND: "2147483647" }],
  ])("passes the config's environment as it is without a cgroup, with %s", async (_how, env) => {
    const plain = await envOf(false, env);
    expect(plain).toMatchObject(env);
    expect(await envOf(true, env)).toEqual(plain);
  });

  test("a driver with a cgroup refuses env names the shell cannot pass, and a non-numeric OPTIND", () => {
    const parent: CgroupParent = { dir: "/sys/fs/cgroup/vigil-test-none", version: "v2" };
    const withCgroup = new ProcessDriver({ clock: new VirtualClock(0), cgroup: parent });
    const without = new ProcessDriver({ clock: new VirtualClock(0) });
    for (const env of [
      { "MY-VAR": "a" },
      { "app.name": "b" },
      { OPTIND: "x" },
      { OPTIND: "2147483648" },
      { PPID: "1" },
    ]) {
      const config = { command: "sleep", env };
      expect(without.validateConfig(config)).toEqual([]);
      expect(withCgroup.validateConfig(config)).toEqual([
        { path: expect.stringMatching(/^\$\.env/), message: expect.stringMatching(/VIGIL_PROCESS_CGROUP/) },
      ]);
    }
    expect(withCgroup.validateConfig({ command: "sleep", env: { GOOD_NAME: "x", OPTIND: "2" } })).toEqual([]);
    expect(withCgroup.validateConfig({ command: "sleep", env: { OPTIND: "2147483647" } })).toEqual([]);
  });
});
