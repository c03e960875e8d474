// The process driver's config: what to run and how long a stopped process gets to exit.

import { z } from "zod";
import type { Problem } from "../../core/errors.ts";

/** How long stop waits for SIGTERM to work when the config does not say. */
export const DEFAULT_GRACE_MS = 5000;

/** A string the system can pass to a process: no NUL (spawn would refuse it, quoting it). */
const passable = () => z.string().refine((s) => !s.includes("\0"), "must not contain a NUL character");

/**
 * The most bytes one argument or one `NAME=value` variable may have, its terminating NUL
 * included: Linux's MAX_ARG_STRLEN (32 pages of 4 KiB), past which execve fails with E2BIG.
 */
export const MAX_ARG_BYTES = 131_072;
const TOO_LONG = `is longer than a process can be passed (${MAX_ARG_BYTES - 1} bytes at most)`;
const fits = (s: string) => Buffer.byteLength(s) < MAX_ARG_BYTES;

/**
 * The most bytes a config's `args` and `env` may take together as execve() is given them: each
 * argument and each `NAME=value` with its terminating NUL and its pointer (8 bytes). Linux
 * refuses more than a quarter of the stack limit (ARG_MAX, 2 MiB with the usual 8 MiB `ulimit
 * -s`; no less than 128 KiB) with E2BIG; half of those 2 MiB leaves room for the command, the
 * variables the server passes on and, with a cgroup, the /bin/sh wrapper's own arguments.
 */
export const MAX_ARGS_ENV_BYTES = 1_048_576;

/** What `args` and `env` take together as execve() is given them (see MAX_ARGS_ENV_BYTES). */
function argsEnvBytes(args: string[] = [], env: Record<string, string> = {}): number {
  const size = (s: string) => Buffer.byteLength(s) + 1 + 8;
  let total = 0;
  for (const a of args) total += size(a);
  for (const [name, value] of Object.entries(env)) total += size(`${name}=${value}`);
  return total;
}

/** The config's fields, each checked on its own (a stop reads `graceMs` from a config that breaks a bound together). */
export const processConfigFields = z.strictObject({
  command: passable().min(1).describe("Executable: a path, or a name looked up on PATH"),
  args: z.array(passable().refine(fits, TOO_LONG)).optional().describe("Arguments"),
  env: z
    .record(passable(), passable())
    // A name with `=` would reach the process as a shorter name whose value begins with the rest;
    // an empty one is no variable at all.
    .superRefine((env, ctx) => {
      for (const [name, value] of Object.entries(env))
        if (name === "" || name.includes("="))
          ctx.addIssue({ code: "custom", path: [name], message: "is not a variable name: empty, or it holds =" });
        else if (!fits(`${name}=${value}`))
          ctx.addIssue({ code: "custom", path: [name], message: `as NAME=value ${TOO_LONG}` });
    })
    .optional()
    .describe("Environment, added to PATH, HOME, USER, LANG, LC_ALL, TZ and TMPDIR from the server's"),
  cwd: passable().min(1).optional().describe("Working directory (default: the server's)"),
  graceMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(DEFAULT_GRACE_MS)
    .describe("How long stop waits after SIGTERM before SIGKILL"),
});

export const processConfigSchema = processConfigFields.superRefine((config, ctx) => {
  const total = argsEnvBytes(config.args, config.env);
  if (total > MAX_ARGS_ENV_BYTES)
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `args and env together take ${total} bytes as a process is passed them (each with its NUL and an 8-byte pointer), more than the ${MAX_ARGS_ENV_BYTES} allowed: the system refuses to start a process given too much (E2BIG)`,
    });
});

export type ProcessConfig = z.output<typeof processConfigSchema>;

/**
 * The variables a child inherits from the server. Only these: the server's own environment
 * holds secrets (API tokens, FLY_API_TOKEN) that governed compute must not see.
 */
export const INHERITED_ENV = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"] as const;

/**
 * Set in every governed tree's environment to its object's id (and inherited by what it forks):
 * after a restart, what is left of a tree whose leader died is told by it from processes that
 * only share the group's number (driver.ts `adopt`).
 */
export const OBJECT_ID_ENV = "VIGIL_OBJECT_ID";

/**
 * Set in a tree's environment to the id of the start action that spawned it: after a restart, a
 * tree whose start was never recorded (the server died between the spawn and the commit) is
 * found by the start still pending (restart.ts), and taken back rather than started twice.
 */
export const ACTION_ENV = "VIGIL_ACTION";

/**
 * The child's environment: the inherited variables, then the config's, then the start action's
 * id (when the spawn carries one out) and the object's id.
 */
export function childEnv(
  config: ProcessConfig,
  objectId: string,
  action?: string,
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of INHERITED_ENV) if (from[key] !== undefined) env[key] = from[key];
  return { ...env, ...config.env, ...(action ? { [ACTION_ENV]: action } : {}), [OBJECT_ID_ENV]: objectId };
}

/**
 * In a cgroup the tree is started through /bin/sh (spawn.ts), which may pass on only variables
 * named like shell identifiers, and reads OPTIND as a number: a config's `env` must keep to
 * both there, and PPID is its own (bash's is read-only). (IFS, OPTIND and PWD, which the shell
 * sets itself, are set back.)
 */
export function shellEnvProblems(env: Record<string, string> | undefined): Problem[] {
  const out: Problem[] = [];
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      out.push({
        path: "$.env",
        message: `${JSON.stringify(name)} is not a shell variable name, which VIGIL_PROCESS_CGROUP needs (its tree is started through /bin/sh, which drops it)`,
      });
    else if (name === "PPID")
      out.push({
        path: "$.env.PPID",
        message: "is the shell's own with VIGIL_PROCESS_CGROUP (/bin/sh starts the tree)",
      });
    // The shell reads it as a C int.
    else if (name === "OPTIND" && !(/^[0-9]{1,10}$/.test(value) && Number(value) <= 2_147_483_647))
      out.push({
        path: "$.env.OPTIND",
        message: "must be a number up to 2147483647 with VIGIL_PROCESS_CGROUP (/bin/sh starts the tree)",
      });
  }
  return out;
}
