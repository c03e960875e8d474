// Starting a process and telling a failure that will pass (out of processes or file handles)
// from one that will not (no such command, no permission).

import { spawn, type ChildProcess } from "node:child_process";
import { DriverError } from "../driver.ts";
import { childEnv, type ProcessConfig } from "./config.ts";

const PASSING = new Set(["EAGAIN", "EMFILE", "ENFILE", "ENOMEM"]);

/**
 * Spawns the config's command and resolves once it runs (Node's 'spawn' event, after exec).
 * stdio is ignored: no pipe ties the child to this server, so it outlives a restart without a
 * SIGPIPE, and its output goes nowhere (a command that wants a log redirects itself, e.g.
 * `sh -c 'exec app >>app.log 2>&1'`). Not detached: the child stays in the server's process
 * group and session.
 */
export function spawnProcess(config: ProcessConfig): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(config.command, config.args ?? [], {
        cwd: config.cwd,
        env: childEnv(config),
        stdio: "ignore",
        detached: false,
      });
    } catch (e) {
      reject(spawnFailure(config.command, e));
      return;
    }
    let spawned = false;
    // Stays registered: a later kill() failure is emitted as 'error' and must not crash the server.
    child.on("error", (e) => {
      if (!spawned) reject(spawnFailure(config.command, e));
    });
    child.once("spawn", () => {
      spawned = true;
      // The server may exit while governed processes run on.
      child.unref();
      resolve(child);
    });
  });
}

/** ENOENT (no such command or cwd), EACCES and the like are final; resource limits pass. */
export function spawnFailure(command: string, e: unknown): DriverError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  const hint = code === "ENOENT" ? " (no such command, or no such working directory)" : "";
  return new DriverError(`cannot start ${command}: ${message}${hint}`, code !== undefined && PASSING.has(code));
}
