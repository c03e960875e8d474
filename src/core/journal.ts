// The fact journal: every accepted patch with its sequence number (the memory version it
// made), and the snapshots retention folds old entries into.

import { applyMergePatch } from "./merge-patch.ts";
import type { JsonObject, LifecycleState, Timer } from "./types.ts";

export interface JournalEntry {
  seq: number;
  patch: JsonObject;
  at: number;
  /** A `snapshot` holds the whole memory at `seq`: older entries were compacted into it. */
  kind?: "patch" | "snapshot";
  /** On a snapshot: the lifecycle the object was in then (its older decisions may be pruned). */
  seed?: LifecycleSeed;
}

/** Where an object's lifecycle stood at one moment of its history. */
export interface LifecycleSeed {
  state: LifecycleState;
  stateSince: number;
  wokeAt: number | null;
  holdUntil: number | null;
  timers: Timer[];
  /**
   * What the decisions left the compute as, and since when: the last action's outcome (a start
   * `running`, a suspend `suspended`, a stop `stopped`; one that failed or was superseded leaves it
   * as it was) or substrate change's, later than either.
   * Absent before any (nothing observed), and on snapshots a Vigil before it wrote.
   */
  substrate?: { status: "running" | "suspended" | "stopped"; at: number };
}

/**
 * Memory as of the last entry: snapshots replace, patches merge. Entry 0 is the memory the
 * object was created with, whole: it replaces too (merged as a patch, its `null` values would
 * be dropped, and they are values of that memory).
 */
export function foldJournal(
  entries: readonly { seq: number; patch: JsonObject; kind?: "patch" | "snapshot" }[],
): JsonObject {
  let memory: JsonObject = {};
  for (const e of entries)
    memory = e.kind === "snapshot" || e.seq === 0 ? e.patch : applyMergePatch(memory, e.patch).memory;
  return memory;
}
