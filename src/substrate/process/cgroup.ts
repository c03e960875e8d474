// An object's process tree held in a cgroup of its own (VIGIL_PROCESS_CGROUP): the kernel
// keeps every descendant in it, even one that starts a session of its own, and freezes them all
// at once. cgroup v2 (`cgroup.freeze`, `cgroup.events`, `cgroup.kill`, `memory.current`) and
// the v1 freezer hierarchy (`freezer.state`) are both supported.

import { existsSync, readdirSync, readFileSync, rmdirSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { makeDir } from "../../dirs.ts";
import { statsOf, waitFor, type Member } from "./proc.ts";
import { reportOf, SETTLE_MS, type ProcessTree, type TreeReport } from "./tree.ts";

export type CgroupVersion = "v2" | "v1-freezer";

/** A directory of cgroups Vigil may create children in. */
export interface CgroupParent {
  dir: string;
  version: CgroupVersion;
}

/** Where `auto` looks, in order: a pure v2 host, the v2 half of a hybrid host, the v1 freezer. */
export const AUTO_PARENTS = ["/sys/fs/cgroup/vigil", "/sys/fs/cgroup/unified/vigil", "/sys/fs/cgroup/freezer/vigil"];

/** Which kind of cgroup `dir` is, or null when it is none. */
export function cgroupVersionOf(dir: string): CgroupVersion | null {
  if (existsSync(join(dir, "cgroup.freeze"))) return "v2";
  if (existsSync(join(dir, "freezer.state"))) return "v1-freezer";
  return null;
}

/**
 * Prepares the parent cgroup: creates `dir` and checks that a child of it can be made and
 * frozen. Throws an Error saying what is missing when it cannot be used.
 */
export function openCgroupParent(dir: string): CgroupParent {
  // Nothing is made off a cgroup filesystem: `auto` tries /sys/fs/cgroup/vigil, and where
  // /sys/fs/cgroup is a tmpfs holding v1 hierarchies that was a plain directory left behind.
  if (!existsSync(dir) && existsSync(dirname(dir)) && !onCgroupFilesystem(dirname(dir)))
    throw new Error(`cannot use the cgroup ${dir}: ${notACgroup(dir)}`);
  try {
    makeDir(dir);
  } catch (e) {
    throw new Error(`cannot create the cgroup ${dir}: ${(e as Error).message}`);
  }
  const probe = join(dir, `probe-${process.pid}`);
  try {
    makeDir(probe);
    const version = cgroupVersionOf(probe);
    if (!version) throw new Error(notACgroup(dir));
    return { dir, version };
  } catch (e) {
    throw new Error(`cannot use the cgroup ${dir}: ${(e as Error).message}`);
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // never created
    }
  }
}

const notACgroup = (dir: string) =>
  `${dir} is not in a cgroup v2 hierarchy (no cgroup.freeze) nor in the v1 freezer hierarchy`;

/** The first of AUTO_PARENTS that can be used, or null. */
export function findCgroupParent(): CgroupParent | null {
  for (const dir of AUTO_PARENTS) {
    if (!existsSync(join(dir, ".."))) continue;
    try {
      return openCgroupParent(dir);
    } catch {
      // try the next
    }
  }
  return null;
}

/**
 * The cgroup of one spawn of one object: `obj-`, its id (ids are file-name safe, but may be
 * `.` or `..`) and a nonce.
 */
export function cgroupDir(parent: CgroupParent, objectId: string, nonce: string): string {
  return join(parent.dir, `obj-${objectId}.${nonce}`);
}

/**
 * How long an object's cgroup must have stood unchanged (its directory's mtime, in real time)
 * before {@link removeEmptyCgroups} may take it for one nothing will use again: a spawn's is
 * empty until its shell has moved in, and that one is new.
 */
export const STALE_CGROUP_MS = 60_000;

/**
 * Removes each object's cgroup under `parent` (`obj-*`, with the cgroups made in it) whose tree
 * is empty and that has stood unchanged for STALE_CGROUP_MS; returns their directories. What
 * no server removes otherwise: the cgroup of a tree left running by `DELETE ?compute=keep`
 * once its processes have exited, or one a server stopped before it could remove. (The cgroup
 * of a tree some server still governs is removed by it once empty; removing it first is the
 * same.)
 */
export function removeEmptyCgroups(parent: CgroupParent, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(parent.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name.startsWith("obj-"))
      .map((e) => e.name);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(parent.dir, name);
    try {
      if (now - statSync(dir).mtimeMs < STALE_CGROUP_MS) continue;
    } catch {
      continue;
    }
    new CgroupTree(dir, parent.version).dispose();
    if (!existsSync(dir)) removed.push(dir);
  }
  return removed;
}

/** How often, on the clock, a server looks for objects' cgroups left empty (and at its start). */
export const CGROUP_SWEEP_MS = 5 * 60_000;

/** Runs {@link removeEmptyCgroups} now and every CGROUP_SWEEP_MS on `clock`; returns what stops it. */
export function sweepEmptyCgroups(parent: CgroupParent, clock: Clock): () => void {
  let timer: TimerHandle | null = null;
  let stopped = false;
  const sweep = () => {
    if (stopped) return;
    removeEmptyCgroups(parent);
    timer = clock.setTimeout(sweep, CGROUP_SWEEP_MS);
  };
  sweep();
  return () => {
    stopped = true;
    if (timer) clock.clearTimeout(timer);
  };
}

export class CgroupTree implements ProcessTree {
  /** The last kill() wrote cgroup.kill. */
  private killedByKernel = false;

  constructor(
    readonly dir: string,
    readonly version: CgroupVersion,
  ) {}

  /** Creates the cgroup (a stale empty one from before is reused). */
  create(): void {
    makeDir(this.dir);
  }

  /** The file a process writes its pid to in order to join. */
  get procsFile(): string {
    return join(this.dir, "cgroup.procs");
  }

  members(): number[] {
    return this.stats().map((m) => m.pid);
  }

  /**
   * The processes of the cgroup and of every cgroup below it: a process of the tree may move
   * into a child cgroup it made (a workload that runs its own jobs in cgroups of their own), and
   * is still of the tree, frozen and killed with it, but listed only in its own cgroup.procs.
   */
  stats(): Member[] {
    const pids: number[] = [];
    for (const [i, dir] of this.cgroups().entries()) {
      let text: string;
      try {
        text = readFileSync(join(dir, "cgroup.procs"), "utf8");
      } catch {
        // The cgroup itself gone is an empty tree; a child gone meanwhile holds nothing.
        if (i === 0) return [];
        continue;
      }
      for (const line of text.split("\n")) if (line !== "") pids.push(Number(line));
    }
    return statsOf(pids);
  }

  /** The cgroup's directory and those of the cgroups below it, each before its children. */
  private cgroups(): string[] {
    const out = [this.dir];
    for (let i = 0; i < out.length; i++) {
      try {
        for (const e of readdirSync(out[i]!, { withFileTypes: true }))
          if (e.isDirectory()) out.push(join(out[i]!, e.name));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  signal(signal: NodeJS.Signals): Member[] {
    const members = this.stats();
    for (const { pid } of members) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
    return members;
  }

  async freeze(): Promise<boolean> {
    this.write(this.version === "v2" ? "cgroup.freeze" : "freezer.state", this.version === "v2" ? "1" : "FROZEN");
    return waitFor(() => this.members().length === 0 || this.frozenState(), SETTLE_MS);
  }

  async thaw(): Promise<boolean> {
    this.write(this.version === "v2" ? "cgroup.freeze" : "freezer.state", this.version === "v2" ? "0" : "THAWED");
    return waitFor(() => !this.frozenState(), SETTLE_MS);
  }

  frozen(): boolean {
    return this.members().length > 0 && this.frozenState();
  }

  /**
   * Whether the last kill() was the kernel's own kill of the whole cgroup (v2's `cgroup.kill`
   * written), which no process refuses.
   */
  killsAll(): boolean {
    return this.killedByKernel;
  }

  /**
   * v2 kills at once (`cgroup.kill`, frozen or not); v1, a v2 without it, and a cgroup.kill this
   * server may not write (a cgroup not delegated to its user) signal each process, thawed, so
   * that SIGKILL is acted on.
   */
  kill(): Member[] {
    if (this.version === "v2" && existsSync(join(this.dir, "cgroup.kill"))) {
      const members = this.stats();
      try {
        writeFileSync(join(this.dir, "cgroup.kill"), "1");
        this.killedByKernel = true;
        return members;
      } catch {
        // Gone (its tree ended and it was removed), or not this server's to write.
      }
    }
    this.killedByKernel = false;
    const members = this.signal("SIGKILL");
    this.write(this.version === "v2" ? "cgroup.freeze" : "freezer.state", this.version === "v2" ? "0" : "THAWED");
    return members;
  }

  /**
   * Removes the cgroup once its tree is empty, the children made in it first (a cgroup with
   * children cannot be removed). While a process of the tree runs nothing is removed: an empty
   * child cgroup is still the workload's own.
   */
  dispose(): void {
    if (this.members().length > 0) return;
    for (const dir of this.cgroups().reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // still busy, or gone already: a later dispose or the next start reuses it
      }
    }
  }

  identity(): { cgroup: string } {
    return { cgroup: this.dir };
  }

  report(): TreeReport {
    const extra: Record<string, string | number> = { cgroup: this.dir };
    const memory = this.read("memory.current");
    if (memory !== null && /^\d+$/.test(memory)) extra.memoryBytes = Number(memory);
    return reportOf(this.members(), extra);
  }

  private frozenState(): boolean {
    if (this.version === "v2") return /^frozen 1$/m.test(this.read("cgroup.events") ?? "");
    return this.read("freezer.state") === "FROZEN";
  }

  private read(file: string): string | null {
    try {
      return readFileSync(join(this.dir, file), "utf8").trim();
    } catch {
      return null;
    }
  }

  private write(file: string, value: string): void {
    try {
      writeFileSync(join(this.dir, file), value);
    } catch {
      // The cgroup is gone (its tree ended and it was removed): nothing to freeze or thaw.
    }
  }
}

/**
 * The cgroup tree an observation names (`cgroup`), when it is one of Vigil's and still there;
 * null otherwise (the tree is then the leader's process group). Wherever the hierarchy is
 * mounted (VIGIL_PROCESS_CGROUP may name one outside /sys/fs/cgroup), the directory must be on
 * a cgroup filesystem: a stored path elsewhere never has files written in it.
 */
export function treeOfObservation(last: { readonly [key: string]: unknown } | null): CgroupTree | null {
  const dir = last?.cgroup;
  if (typeof dir !== "string" || !/^\/.+\/obj-[^/]+$/.test(dir) || !onCgroupFilesystem(dir)) return null;
  const version = cgroupVersionOf(dir);
  return version ? new CgroupTree(dir, version) : null;
}

/** statfs's magic numbers of cgroup2 and of cgroup v1. */
const CGROUP_FILESYSTEMS = new Set([0x63677270, 0x27e0eb]);

function onCgroupFilesystem(dir: string): boolean {
  try {
    return CGROUP_FILESYSTEMS.has(statfsSync(dir).type);
  } catch {
    return false;
  }
}
