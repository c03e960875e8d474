// The configuration a command reads from the environment and its flags: a problem with a value a
// flag gave (`vigil serve --db`, `vigil replay --db`) names the flag, not the variable it stands for.

import { InvalidConfiguration, loadConfig, type Config } from "../config.ts";
import { fileErrorWords } from "../core/file-errors.ts";

/** Each flag and the variable it overrides. */
export const FLAGS = { host: "VIGIL_HOST", port: "VIGIL_PORT", db: "VIGIL_DB_URL", rules: "VIGIL_RULES_DIR" } as const;

/**
 * The configuration, with the flags' values over the environment's. An empty variable means its
 * default; an empty flag (`--db "$URL"` with URL unset) is a mistake, not the environment's value.
 */
export function configWithFlags(overrides: Partial<Record<keyof Config, string>>): Config {
  for (const [flag, variable] of Object.entries(FLAGS))
    if (overrides[variable] === "") throw new InvalidConfiguration([emptyFlag(flag as keyof typeof FLAGS)]);
  try {
    return loadConfig(process.env, overrides);
  } catch (e) {
    throw inFlagTerms(e as Error, overrides);
  }
}

/**
 * The database a command that only reads one (`vigil replay`, `vigil simulate --db`) opens: the
 * flag's URL, else VIGIL_DB_URL, and VIGIL_DB_AUTH_TOKEN. Only these are read from the
 * environment, so a shell holding a server's other settings (a VIGIL_DRAIN_TIMEOUT or an
 * FLY_API_TOKEN that server would refuse) does not stop a command that never uses them.
 */
export function databaseWithFlags(db: string | undefined): Pick<Config, "VIGIL_DB_URL" | "VIGIL_DB_AUTH_TOKEN"> {
  if (db === "") throw new InvalidConfiguration([emptyFlag("db")]);
  const overrides = db === undefined ? {} : { VIGIL_DB_URL: db };
  const env = { VIGIL_DB_URL: process.env.VIGIL_DB_URL, VIGIL_DB_AUTH_TOKEN: process.env.VIGIL_DB_AUTH_TOKEN };
  try {
    const config = loadConfig(env, overrides);
    return { VIGIL_DB_URL: config.VIGIL_DB_URL, VIGIL_DB_AUTH_TOKEN: config.VIGIL_DB_AUTH_TOKEN };
  } catch (e) {
    throw inFlagTerms(e as Error, overrides);
  }
}

/** What an empty flag is: a mistake, not its variable's value (which, empty, means the default). */
export function emptyFlag(flag: keyof typeof FLAGS): string {
  return `--${flag}: must not be empty (leave the flag out for ${FLAGS[flag]} or its default)`;
}

/** A configuration error naming the flag where a flag, not the variable, gave the value. */
export function inFlagTerms(e: Error, overrides: Partial<Record<keyof Config, string>>): Error {
  let message = e.message;
  for (const [flag, variable] of Object.entries(FLAGS))
    if (overrides[variable] !== undefined) message = message.replaceAll(variable, `--${flag}`);
  return new Error(message, { cause: e });
}

/**
 * The directory of policy files a local command reads (`vigil validate`, `test`, `simulate`):
 * `--rules`, else VIGIL_RULES_DIR (empty: unset), else `rules`; and, for a message about it,
 * where that came from. A directory that cannot be read was said as `rulez: no such file or
 * directory`, which named neither the flag nor the variable (a stale VIGIL_RULES_DIR left the
 * reader looking for a `rulez` no argument held).
 */
export function rulesDirectory(flag: string | undefined): { dir: string; source: string } {
  if (flag !== undefined) return { dir: flag, source: "--rules" };
  const variable = process.env.VIGIL_RULES_DIR;
  if (variable) return { dir: variable, source: "VIGIL_RULES_DIR" };
  return { dir: "rules", source: "the default; give --rules DIR or set VIGIL_RULES_DIR" };
}

/**
 * Where the directory of policy files came from, for a message that it lacks a policy, with how
 * to name another: `the policy directory, from VIGIL_RULES_DIR; give --rules DIR for another`.
 */
export function rulesSource(rules: { source: string }): string {
  const another = rules.source === "VIGIL_RULES_DIR" ? "; give --rules DIR for another" : "";
  return `the policy directory, from ${rules.source}${another}`;
}

/**
 * What is wrong with the directory of policy files, when listing it failed (`e`, from readdir),
 * naming where it came from: `rulez: no such file or directory (the policy directory, from
 * VIGIL_RULES_DIR)`. Null for any other failure.
 */
export function rulesDirectoryProblem(e: unknown, rules: { dir: string; source: string }): string | null {
  if ((e as NodeJS.ErrnoException | null)?.syscall !== "scandir") return null;
  const words = fileErrorWords(e) ?? (e as Error).message;
  return `${rules.dir}: ${words} (the policy directory, from ${rules.source})`;
}
