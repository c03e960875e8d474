// Starts the real `vigil serve` as a child process on a free loopback port.

import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventually } from "./eventually.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface VigilProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its log). */
  log: () => string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * With `ownGroup`, the server leads a process group of its own, as it would in a terminal of
 * its own: a signal to that group is a Ctrl-C there, and does not reach the test runner.
 */
export async function startVigil(
  env: Record<string, string>,
  args: string[] = [],
  opts: { ownGroup?: boolean } = {},
): Promise<VigilProcess> {
  // On a free port unless `args` names one: a flag given twice is a usage error.
  const port = args.includes("--port") ? [] : ["--port", "0"];
  const child = spawn(process.execPath, ["bin/vigil.js", "serve", ...port, ...args], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: "info", VIGIL_TOKENS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.ownGroup === true,
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`vigil exited with ${code} before listening:\n${stderr}`)));
  });
  return { url, child, log: () => stderr, kill: (s) => child.kill(s), exited };
}

/** SIGKILLs each process group whose leader's pid is in `groups`, and empties it; a group gone is fine. */
export function killGroups(groups: number[]): void {
  for (const g of groups.splice(0)) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** The variables a process was started with (/proc: what exec gave it, whatever it set since). */
export function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/**
 * Removes the cgroups under `parent` of the objects whose ids start with `prefix` (`obj-<id>.*`),
 * once their processes are gone: a test that kills a tree itself leaves its cgroup behind. Only
 * a test's own objects: another file's empty cgroup may be about to take its shell, and so may
 * that of the same file run at once by another test run on the machine (the cgroup parent is
 * the machine's), so `prefix` names this process's run (its pid and a random part), not the file.
 */
export async function removeCgroups(parent: string | undefined, prefix: string): Promise<void> {
  if (parent === undefined) return;
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith(`obj-${prefix}`));
  } catch {
    return;
  }
  for (const name of names) {
    const gone = () => {
      try {
        removeCgroup(join(parent, name));
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === "ENOENT";
      }
    };
    await eventually(gone);
  }
}

/** rmdir of a cgroup, the cgroups made in it first (a test may have made one and failed). */
function removeCgroup(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  rmdirSync(dir);
}
