// The fact journal: every accepted patch with its sequence number (the memory version it
// made), and the snapshots retention folds old entries into.

import { applyMergePatch } from "./merge-patch.ts";
import type { JsonObject } from "./types.ts";

export interface JournalEntry {
  seq: number;
  patch: JsonObject;
  at: number;
  /** A `snapshot` holds the whole memory at `seq`: older entries were compacted into it. */
  kind?: "patch" | "snapshot";
}

/** Memory as of the last entry: snapshots replace, patches merge. */
export function foldJournal(entries: readonly { patch: JsonObject; kind?: "patch" | "snapshot" }[]): JsonObject {
  let memory: JsonObject = {};
  for (const e of entries) memory = e.kind === "snapshot" ? e.patch : applyMergePatch(memory, e.patch).memory;
  return memory;
}
