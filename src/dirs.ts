// Making directories without Node's recursive mkdir, which never returns when asked for a
// directory under /proc (Node 20): `mkdirSync("/proc/nope", { recursive: true })` hangs, so a
// database path there would leave the server neither serving nor stopped.

import { lstatSync, mkdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { fileErrorWords } from "./core/file-errors.ts";

/**
 * Why `path` cannot be a file to make or open (a directory; a path ending in `/`, there or not,
 * of which libsql would make a file; a path through a file; a device, FIFO or socket, such as
 * `/dev/null`, where SQLite fails with an I/O error and writes its journal beside it), or null
 * when it can be.
 */
export function notAFilePath(path: string): string | null {
  try {
    const stat = path.endsWith("/") ? null : statSync(path, { throwIfNoEntry: false });
    if (path.endsWith("/") || stat?.isDirectory() === true)
      return `${path} is a directory; name a database file (in it: file:${join(path, "vigil.db")})`;
    if (stat && !stat.isFile()) return `${path} is not a regular file (${kindOf(stat)}); name a database file`;
  } catch (e) {
    return `${path}: ${fileErrorWords(e) ?? (e as Error).message}`;
  }
  return null;
}

/**
 * Where the symbolic link at `path` points, when it is a link to nothing (its target is not
 * there); null for anything else, a path with nothing at all at it too.
 */
export function linkToNothing(path: string): string | null {
  try {
    if (!lstatSync(path).isSymbolicLink() || !isMissing(path)) return null;
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** What a missing `path` is, in words: `no such file or directory`, or a link to nothing and its target. */
export function missingWords(path: string): string {
  const target = linkToNothing(path);
  return target === null
    ? "no such file or directory"
    : `a symbolic link to nothing (to ${JSON.stringify(target)}, which does not exist)`;
}

/**
 * Whether nothing is at `path`: not there (ENOENT), or a path through a file (ENOTDIR).
 * existsSync says false also for a file that is there in a directory this user may not search
 * (EACCES), which a command would then call missing; this says true only when it is, and reading
 * any other path says what is wrong with it.
 */
export function isMissing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR";
  }
}

/** What a path that is not a regular file nor a directory is, in words. */
function kindOf(stat: Stats): string {
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  return "not a file";
}

/** mkdir, one level, an existing directory being fine (a file or a dangling link there is not). */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !isDirectory(dir)) throw e;
  }
}

/** mkdir -p, one level at a time from the nearest directory that exists. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !isDirectory(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) makeDir(d);
}

/** Whether `path` is a directory, or a link to one. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
