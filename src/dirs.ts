// Making directories without Node's recursive mkdir, which never returns when asked for a
// directory under /proc (Node 20): `mkdirSync("/proc/nope", { recursive: true })` hangs, so a
// database path there would leave the server neither serving nor stopped.

import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileErrorWords } from "./core/file-errors.ts";

/**
 * Why `path` cannot be a file to make or open (a directory; a path ending in `/`, there or not,
 * of which libsql would make a file; a path through a file), or null when it can be.
 */
export function notAFilePath(path: string): string | null {
  try {
    if (path.endsWith("/") || statSync(path, { throwIfNoEntry: false })?.isDirectory() === true)
      return `${path} is a directory; name a database file (in it: file:${join(path, "vigil.db")})`;
  } catch (e) {
    return `${path}: ${fileErrorWords(e) ?? (e as Error).message}`;
  }
  return null;
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
