// Patches of what the process driver reads in /proc, for the test that calls them (each is undone
// when that test finishes). Node's builtin `fs` is patched and its ES module exports synced, so
// that the named imports in proc.ts see the patch.
// - countProcScans: counts the code under test's reads of all of /proc (its listing, which a
//   process group's read of its members starts with): their cost grows with every process on
//   the machine, not with the tree's own.
// - hideProcChildren: makes /proc/<pid>/task/<tid>/children unreadable, as on a kernel built
//   without CONFIG_PROC_CHILDREN.

import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { onTestFinished } from "vitest";

export interface ProcScans {
  /** Listings of /proc since the last reset. */
  readonly count: number;
  reset(): void;
  restore(): void;
}

/** `afterScan`, when given, runs after each listing, before the code under test reads its entries. */
export function countProcScans(afterScan?: (count: number) => void): ProcScans {
  let count = 0;
  const restore = patch("readdirSync", (original) => (path, ...rest) => {
    const listing = original(path, ...rest);
    if (path === "/proc") {
      count++;
      afterScan?.(count);
    }
    return listing;
  });
  return {
    get count() {
      return count;
    },
    reset: () => void (count = 0),
    restore,
  };
}

/** Returns the undo, which also runs when the test finishes. */
export function hideProcChildren(): () => void {
  return patch("readFileSync", (original) => (path, ...rest) => {
    if (typeof path === "string" && path.endsWith("/children"))
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    return original(path, ...rest);
  });
}

type Fn = (path: unknown, ...rest: unknown[]) => unknown;

/** Replaces `fs[name]` until the returned undo runs (at the latest when the test finishes). */
function patch(name: "readdirSync" | "readFileSync", wrap: (original: Fn) => Fn): () => void {
  const original = fs[name];
  (fs as unknown as Record<string, Fn>)[name] = wrap(original as unknown as Fn);
  syncBuiltinESMExports();
  let undone = false;
  const undo = () => {
    if (undone) return;
    undone = true;
    (fs as unknown as Record<string, unknown>)[name] = original;
    syncBuiltinESMExports();
  };
  onTestFinished(undo);
  return undo;
}
