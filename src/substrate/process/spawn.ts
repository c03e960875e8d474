// Starting a process as the leader of its own session and process group, optionally inside a
// cgroup, and telling a failure that will pass (out of processes or file handles) from one
// that will not (no such command, no permission).

import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readSync, statSync, type Stats } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { DriverError } from "../driver.ts";
import { childEnv, type ProcessConfig } from "./config.ts";
import { inheritedFds } from "./proc.ts";

const PASSING = new Set(["EAGAIN", "EMFILE", "ENFILE", "ENOMEM"]);

/**
 * Where spawn looks for a bare command when the child's environment has no PATH (a server
 * started without one): libuv's default, the C library's `_PATH_DEFPATH`.
 */
export const DEFAULT_PATH = "/usr/bin:/bin";

/**
 * Spawns the config's command and resolves once it runs (Node's 'spawn' event, after exec).
 *
 * - `detached`: the child calls setsid(), so it leads a new session and process group. Its
 *   whole tree can be signalled as one (`kill(-pgid)`), and signals meant for the server's own
 *   group (Ctrl-C in its terminal, a service manager stopping the server) do not reach it.
 * - stdio is ignored: no pipe ties the child to this server, so it outlives a restart without a
 *   SIGPIPE, and its output goes nowhere (a command that wants a log redirects itself, e.g.
 *   `sh -c 'exec app >>app.log 2>&1'`). A descriptor the server inherited without close-on-exec
 *   (see inheritedFds) is /dev/null in the child: the server's file, pipe or socket (a lock held
 *   on it, a pipe whose reader waits for its end) does not reach governed compute.
 * - With `cgroupProcs` (a cgroup's `cgroup.procs` file), a shell first moves itself into the
 *   cgroup and then execs the command, so that every process of the tree is born inside it.
 */
export function spawnProcess(
  config: ProcessConfig,
  objectId: string,
  cgroupProcs?: string,
  action?: string,
): Promise<ChildProcess> {
  const env = childEnv(config, objectId, action);
  const path = env.PATH ?? DEFAULT_PATH;
  const cwd = config.cwd ?? process.cwd();
  const failure = (e: unknown) => spawnFailure(config.command, e, () => missing(config.command, path, cwd));
  let file = config.command;
  let args = config.args ?? [];
  if (cgroupProcs !== undefined) {
    // exec in the shell cannot report ENOENT the way spawn does: look the command up first.
    try {
      checkCommand(config.command, path, cwd);
    } catch (e) {
      return Promise.reject(failure(e));
    }
    args = wrapperArgs(config, cgroupProcs, env.PATH === undefined);
    file = "/bin/sh";
  }
  return new Promise((resolvePromise, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: config.cwd, env, stdio: stdio(), detached: true });
    } catch (e) {
      reject(failure(e));
      return;
    }
    let spawned = false;
    // Stays registered: a later kill() failure is emitted as 'error' and must not crash the server.
    child.on("error", (e) => {
      if (!spawned) reject(failure(e));
    });
    child.once("spawn", () => {
      spawned = true;
      // The server may exit while governed processes run on.
      child.unref();
      resolvePromise(child);
    });
  });
}

/** /dev/null, opened once (close-on-exec, as Node opens every file) for the child's stdio. */
let devNull: number | undefined;
/**
 * The descriptors the server inherited without close-on-exec, read at the first spawn: a read
 * of every open descriptor's fdinfo, which a spawn would otherwise pay for each connection the
 * server holds. The set is the server's from its start: nothing it opens itself lacks the flag.
 */
let inherited: number[] | undefined;

/**
 * The child's stdio: ignored (/dev/null), and so is each descriptor the server inherited without
 * close-on-exec: spawn cannot close one in the child, but puts /dev/null in its place.
 */
function stdio(): StdioOptions {
  const leaking = (inherited ??= inheritedFds());
  if (leaking.length === 0) return "ignore";
  devNull ??= openSync("/dev/null", "r+");
  const out: StdioOptions = ["ignore", "ignore", "ignore"];
  for (const fd of leaking) {
    while (out.length < fd) out.push("ignore");
    out[fd] = devNull;
  }
  return out;
}

/**
 * Throws the final DriverError spawn would give when `command` cannot be run from `cwd`: the
 * error of chdir() for the cwd, then that of execve(), or of execvp()'s search of `path` for a
 * bare name (a file that is there but cannot be run, as a directory, is EACCES, kept while a
 * later directory may hold one that can; none there at all, ENOENT).
 */
function checkCommand(command: string, path: string, cwd: string): void {
  const fail = (code: string) => {
    throw Object.assign(new Error(`spawn ${command} ${code}`), { code });
  };
  const cwdError = statError(cwd, (s) => s.isDirectory(), "ENOTDIR");
  if (cwdError) fail(cwdError);
  if (command.includes("/")) {
    const error = execError(isAbsolute(command) ? command : resolve(cwd, command), cwd);
    if (error) fail(error);
    return;
  }
  let denied = false;
  for (const dir of path.split(delimiter)) {
    const error = execError(join(resolve(cwd, dir || "."), command), cwd);
    if (!error) return;
    denied ||= error === "EACCES";
  }
  fail(denied ? "EACCES" : "ENOENT");
}

/** The error execve() gives for `file`, run from `cwd`: none when it would run it. */
function execError(file: string, cwd: string): string | null {
  const error = statError(file, (s) => s.isFile() && canExecute(file), "EACCES");
  if (error) return error;
  // A script: its interpreter is run in its place (one missing fails as for a missing command).
  const interpreter = interpreterOf(file, cwd)?.path;
  return interpreter === undefined
    ? null
    : statError(interpreter, (s) => s.isFile() && canExecute(interpreter), "EACCES");
}

/** The code stat() fails with for `file`, `otherwise` when `ok` does not hold of it, or null. */
function statError(file: string, ok: (s: Stats) => boolean, otherwise: string): string | null {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "ENOENT";
  }
  return ok(stats) ? null : otherwise;
}

/**
 * What the kernel runs in the place of `file`, resolved from `cwd` when it is named relative to
 * it: the interpreter of a `#!` script, or the program loader an ELF executable's header names
 * (PT_INTERP: one built for another system names a loader this one may not have); null when it
 * names none (or is unreadable). A `#!` name ends at a space, a tab or the line's end: a `\r` of a
 * script saved with CRLF line ends is part of it (`/bin/sh\r`, which is nowhere).
 */
function interpreterOf(file: string, cwd: string): { path: string; by: "#!" | "ELF" } | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const read = (at: number, length: number) => {
      const buf = Buffer.alloc(length);
      return buf.subarray(0, readSync(fd, buf, 0, length, at));
    };
    const head = read(0, 256);
    const m = /^#![ \t]*([^ \t\n]+)/.exec(head.toString("latin1"));
    if (m) return { path: resolve(cwd, m[1]!), by: "#!" };
    const loader = elfLoader(head, read);
    return loader === null ? null : { path: resolve(cwd, loader), by: "ELF" };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** PT_INTERP: the program header naming the loader the kernel runs a dynamic executable with. */
const PT_INTERP = 3;

/**
 * The loader an ELF executable's program headers name (PT_INTERP), or null when `head` (its first
 * bytes) is no ELF file or it names none (a static one). `read` reads `length` bytes at `at`.
 */
function elfLoader(head: Buffer, read: (at: number, length: number) => Buffer): string | null {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return null;
  const wide = head[4] === 2;
  const le = head[5] === 1;
  if (wide && head.length < 64) return null;
  const u16 = (b: Buffer, at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number) =>
    wide ? Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at);
  const phoff = word(head, wide ? 32 : 28);
  const phentsize = u16(head, wide ? 54 : 42);
  const phnum = u16(head, wide ? 56 : 44);
  // The kernel refuses (ENOEXEC) program headers of another size than its own, or more than 64
  // KiB of them: it looks no loader up then.
  if (phentsize !== (wide ? 56 : 32) || phentsize * phnum > 65536) return null;
  const headers = read(phoff, phentsize * phnum);
  for (let at = 0; at + phentsize <= headers.length; at += phentsize) {
    if (u32(headers, at) !== PT_INTERP) continue;
    const offset = word(headers, at + (wide ? 8 : 4));
    const size = word(headers, at + (wide ? 32 : 16));
    // As the kernel reads it: a name of fewer than 2 bytes or more than PATH_MAX, or one not ended
    // by a NUL, fails ENOEXEC (no loader is looked up); an empty one ("\0\0") opens the cwd.
    if (size < 2 || size > 4096) return null;
    const name = read(offset, size);
    if (name.length < size || name[size - 1] !== 0) return null;
    return name.toString("latin1", 0, name.indexOf(0));
  }
  return null;
}

/**
 * What is not there when spawning `command` from `cwd` fails ENOENT: the working directory, the
 * interpreter a script's `#!` line names (one saved with CRLF line ends names `/bin/sh\r`), the
 * program loader an executable's ELF header names, or the command itself (at its path, or in
 * each directory of `path` for a bare name).
 */
function missing(command: string, path: string, cwd: string): string {
  if (statError(cwd, () => true, "") !== null) return `no such working directory: ${JSON.stringify(cwd)}`;
  const files = command.includes("/")
    ? [resolve(cwd, command)]
    : path.split(delimiter).map((dir) => join(resolve(cwd, dir || "."), command));
  for (const file of files) {
    if (statError(file, (s) => s.isFile(), "EISDIR") !== null) continue;
    const interpreter = interpreterOf(file, cwd);
    if (interpreter !== null && statError(interpreter.path, () => true, "") !== null) {
      const named = JSON.stringify(interpreter.path);
      if (interpreter.by === "ELF") return `the program loader its ELF header names is not there: ${named}`;
      const crlf = interpreter.path.endsWith("\r") ? "; the script has CRLF line ends" : "";
      return `the interpreter its #! line names is not there: ${named}${crlf}`;
    }
  }
  return command.includes("/") ? "no such command" : "no such command on the PATH";
}

/** Whether this process may execute `file` (root may when any execute bit is set). */
function canExecute(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a server that enables this driver logs at start when it is PID 1 (node as a container's
 * command, as the Dockerfile runs it). A process of a governed tree whose parent exits first (a
 * worker whose leader died, or was stopped, before it) is handed to PID 1, and Node waits only
 * for the children it spawned itself: each such orphan stays a zombie, holding its pid, until
 * the server exits. An init as PID 1 reaps them.
 */
export const ORPHANS_AT_PID1 =
  "the process driver is enabled and this server is PID 1, which reaps no orphans: processes of governed trees whose parent exits first stay zombies until the server exits; run it under an init (docker run --init, tini)";

/**
 * ENOENT (no such command or cwd), EACCES and the like are final; resource limits pass. `missing`
 * says what ENOENT did not find, when it can be told.
 */
export function spawnFailure(command: string, e: unknown, missing?: () => string): DriverError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // Node's own refusal of an argument quotes the value, which may be an `env` secret: named only.
  const message = code?.startsWith("ERR_INVALID_ARG")
    ? `a value of the config cannot be passed to a process (${code})`
    : e instanceof Error
      ? e.message
      : String(e);
  const hint = code === "ENOENT" ? ` (${missing?.() ?? "no such command, or no such working directory"})` : "";
  return new DriverError(`cannot start ${command}: ${message}${hint}`, code !== undefined && PASSING.has(code));
}

/** Variables /bin/sh sets itself and passes on: each set back to the config's value. */
const SHELL_SET = ["IFS", "OPTIND", "PWD"] as const;

/**
 * `/bin/sh` moving itself into the cgroup, then exec'ing the command with the environment it
 * would get without a cgroup: the variables the shell sets itself are set back to the config's
 * values (given as arguments), and PWD, which it adds, is unset when the config has none. Names
 * a shell cannot pass on are refused in that mode (config.ts shellEnvProblems). With no PATH in
 * the environment (`noPath`), the shell would look the command up in a default of its own (dash:
 * /usr/local/sbin:/usr/local/bin:...), not in DEFAULT_PATH as the check and spawn do, and run
 * another program of the same name: PATH is set to DEFAULT_PATH in the shell, not exported.
 */
function wrapperArgs(config: ProcessConfig, cgroupProcs: string, noPath: boolean): string[] {
  const kept = SHELL_SET.filter((name) => config.env?.[name] !== undefined);
  const steps = ['echo $$ > "$0"', ...kept.map((name, i) => `${name}="$${i + 1}" && export ${name}`)];
  if (noPath) steps.push(`PATH=${DEFAULT_PATH}`);
  if (!kept.includes("PWD")) steps.push("unset PWD");
  if (kept.length > 0) steps.push(`shift ${kept.length}`);
  steps.push('exec "$@"');
  const values = kept.map((name) => config.env![name]!);
  return ["-c", steps.join(" && "), cgroupProcs, ...values, config.command, ...(config.args ?? [])];
}
