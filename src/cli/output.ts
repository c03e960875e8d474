// What the client commands print and read: JSON for --json, aligned tables, values as a person
// reads them, and JSON arguments given inline, as @FILE, or as - (stdin).

import type { z } from "zod";
import { readTextFile } from "../contracts/text.ts";
import { fileErrorWords } from "../core/file-errors.ts";
import { formatPath, type PathSegment } from "../core/paths.ts";
import { CliError, usageError, type Io } from "./client.ts";
import { printable } from "./printable.ts";
import { isDecimal } from "./values.ts";
import { EXIT, type CommandName } from "./usage.ts";

/** What --json prints: the value, indented, on one write. */
export const printJson = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A JSON value inline: strings quoted, so `"3"` and `3` read apart. */
export const show = (v: unknown) => (v === undefined ? "(none)" : printable(JSON.stringify(v)));

/** A lifecycle change, or the one state when it did not change. */
export const states = (from: unknown, to: unknown) => (from === to ? String(to) : `${String(from)} -> ${String(to)}`);

/** A trigger as `kind` or `kind name`, with `(late)`. */
export function triggerText(t: unknown): string {
  const { kind, name, late } = (t ?? {}) as { kind?: unknown; name?: unknown; late?: unknown };
  return `${String(kind ?? "?")}${name ? ` ${String(name)}` : ""}${late ? " (late)" : ""}`;
}

/**
 * A reply body the command expected, checked against the reply's schema (the one the server's API
 * document is made of): a 2xx of another shape (another service answering on the URL) is the
 * server's error, said in words. The body is returned as it came (for --json).
 */
export function replyBody<T>(body: unknown, schema: z.ZodType, what: string): T {
  if (!schema.safeParse(body).success) throw new CliError(EXIT.serverError, `the server's reply is not ${what}`);
  return body as T;
}

/**
 * A JSON argument: inline JSON, `@FILE` for a file's content, or `-` for stdin. A value that is
 * not JSON, one with a number JSON cannot carry (1e400), or a file that cannot be read, is a
 * usage error naming the option.
 */
export async function jsonArgument(command: CommandName, name: string, text: string, io: Io): Promise<unknown> {
  let source = text;
  const file = text.startsWith("@") ? text.slice(1) : null;
  if (file === "") throw usageError(command, `${name}: @ names no file (write @FILE, or - for stdin)`);
  if (text === "-" || file !== null) {
    const from = file ?? "stdin";
    try {
      source = file === null ? await io.stdin() : readTextFile(file);
    } catch (e) {
      const why = fileErrorWords(e) ?? (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw usageError(command, `${name}: cannot read ${from} (${why})`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    throw usageError(command, `${name} is not valid JSON (${(e as Error).message})`);
  }
  // JSON.parse reads a number past the double range (1e400) as Infinity, which the request body
  // would carry as null: in facts, a merge patch, that deletes the key. The server refuses such
  // a number, but would never see it, so it is refused here, before anything is sent.
  const at = infinityPath(value);
  if (at !== null)
    throw usageError(
      command,
      `${name}: ${at}: the number is too large to send (JSON would carry it as null): send a smaller one, or a string`,
    );
  return value;
}

/** The path of the first number JSON.parse read as ±Infinity, in document order; null when none is. */
function infinityPath(root: unknown): string | null {
  // A stack, not recursion: the argument may nest as deep as JSON.parse took it. Each entry
  // links to its parent, and a path is spelled out only for the number found.
  type Entry = { value: unknown; key: PathSegment | null; parent: Entry | null };
  const stack: Entry[] = [{ value: root, key: null, parent: null }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const v = entry.value;
    if (typeof v === "number" && !Number.isFinite(v)) {
      const path: PathSegment[] = [];
      for (let e: Entry | null = entry; e !== null && e.key !== null; e = e.parent) path.unshift(e.key);
      return formatPath(path);
    }
    if (v === null || typeof v !== "object") continue;
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--)
      stack.push({ value: (v as Record<PathSegment, unknown>)[keys[i]!], key: keys[i]!, parent: entry });
  }
  return null;
}

/**
 * A flag's value that names something (`--policy`, `--object`, `--cursor`, `--driver`...), or a
 * usage error when it is given empty: the server takes an empty query parameter for an absent
 * one, so `--policy "$P"` with P unset would list every object instead of failing, and an empty
 * `--driver` would leave the binding as it is. What an empty value cannot mean, it is refused for.
 */
export function nonEmpty(command: CommandName, name: string, text: string | undefined): string | undefined {
  if (text === "") throw usageError(command, `${name} must not be empty (leave the flag out if you mean none)`);
  return text;
}

/**
 * A positive whole number option (`--limit`, `--count`), or a usage error naming it: one past
 * the largest a number holds exactly (2^53 - 1) is said to be too large, with that bound.
 */
export function positiveInt(command: CommandName, name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!isDecimal(text, false) || n < 1) throw usageError(command, `${name} takes a whole number of at least 1`);
  if (!Number.isSafeInteger(n))
    throw usageError(
      command,
      `${name} ${text} is too large: it takes a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`,
    );
  return n;
}

/**
 * An operational failure in words a person acts on: a file or directory named with what is
 * wrong with it, a database that cannot be opened with the likely reason. Anything else keeps
 * its own message.
 */
export function failureMessage(e: unknown): string {
  const err = e as { code?: unknown; path?: unknown; message?: unknown };
  const message = typeof err.message === "string" ? err.message : String(e);
  const words = fileErrorWords(e);
  if (words !== null && typeof err.path === "string") return `${err.path}: ${words}`;
  const db = /Unable to open connection to local database (.*?): (\d+)/.exec(message);
  if (db)
    return `cannot open the database ${db[1]}: its directory does not exist or cannot be written (SQLite error ${db[2]})`;
  return message;
}
