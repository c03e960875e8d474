// Counts the code under test's reads of all of /proc (its listing, which a process group's read
// of its members starts with): their cost grows with every process on the machine, not with the
// tree's own. Node's builtin `fs` is patched and its ES module exports synced, so that the named
// import in proc.ts sees the patch; `restore` puts it back.

import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

export interface ProcScans {
  /** Listings of /proc since the last reset. */
  readonly count: number;
  reset(): void;
  restore(): void;
}

/** `afterScan`, when given, runs after each listing, before the code under test reads its entries. */
export function countProcScans(afterScan?: (count: number) => void): ProcScans {
  const original = fs.readdirSync;
  let count = 0;
  const counting = ((path: fs.PathLike, ...rest: unknown[]) => {
    const listing = (original as (...args: unknown[]) => unknown)(path, ...rest);
    if (path === "/proc") {
      count++;
      afterScan?.(count);
    }
    return listing;
  }) as typeof fs.readdirSync;
  fs.readdirSync = counting;
  syncBuiltinESMExports();
  return {
    get count() {
      return count;
    },
    reset: () => void (count = 0),
    restore: () => {
      fs.readdirSync = original;
      syncBuiltinESMExports();
    },
  };
}
