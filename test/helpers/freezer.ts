// A v1 freezer cgroup for tests that need a process a SIGKILL does not end: one frozen there does
// not exit of it until it is thawed, and /proc shows it in state `D`, as one stuck in the kernel.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { eventually } from "./eventually.ts";

const FREEZER = "/sys/fs/cgroup/freezer";

/** Whether this machine has the v1 freezer hierarchy and this test may make a cgroup in it (root). */
export const freezerV1 = (() => {
  const probe = join(FREEZER, `probe.${process.pid}`);
  try {
    mkdirSync(probe);
  } catch {
    return false;
  }
  try {
    return existsSync(join(probe, "freezer.state"));
  } finally {
    rmdirSync(probe);
  }
})();

/** The cgroups a test file froze processes in, each thawed and removed by `thawAll`. */
export class Freezers {
  private readonly dirs: string[] = [];

  get used(): boolean {
    return this.dirs.length > 0;
  }

  /** Freezes `pid` in a v1 freezer cgroup of its own (`name`); resolves with its directory. */
  async freeze(name: string, pid: number): Promise<string> {
    const dir = join(FREEZER, `${name}.${process.pid}`);
    mkdirSync(dir);
    this.dirs.push(dir);
    writeFileSync(join(dir, "cgroup.procs"), String(pid));
    writeFileSync(join(dir, "freezer.state"), "FROZEN");
    expect(await eventually(() => readFileSync(join(dir, "freezer.state"), "utf8").trim() === "FROZEN")).toBe(true);
    return dir;
  }

  /** Thaws the cgroup at `dir` (its processes go on, or exit of a SIGKILL they were sent). */
  thaw(dir: string): void {
    writeFileSync(join(dir, "freezer.state"), "THAWED");
  }

  /** Thaws every cgroup frozen, waits for it to empty (its processes killed first), and removes it. */
  async thawAll(): Promise<void> {
    for (const dir of this.dirs.splice(0)) {
      writeFileSync(join(dir, "freezer.state"), "THAWED");
      await eventually(() => readFileSync(join(dir, "tasks"), "utf8") === "");
      rmdirSync(dir);
    }
  }
}
