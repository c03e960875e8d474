// The data a simulation works on: a workload (objects and the facts that arrive for them, from a
// traffic file or a recorded history) and what each row of the comparison left behind (every
// object's state changes and every fact's arrival). Plain data, epoch milliseconds.

import type { JsonObject, LifecycleState } from "../core/types.ts";

/** One fact arriving for one object. */
export interface TrafficFact {
  at: number;
  objectId: string;
  facts: JsonObject;
  /** Where it came from, for an error about it: `traffic.jsonl line 7`, `w-1 journal entry 12`. */
  source: string;
}

/** An object of the workload: created under each policy at `createdAt` with `memory`. */
export interface SimObject {
  id: string;
  createdAt: number;
  memory: JsonObject;
}

export interface Workload {
  objects: SimObject[];
  /** In time order; facts at the same instant keep the order they were given in. */
  facts: TrafficFact[];
  /**
   * Read from a database's history (`--db`): its memory was accepted once, under the limit the
   * server had then, so it is not refused again over the default one (as replay does not).
   */
  recorded?: boolean;
}

/** An object entered `state` at `at`. An object's first entry is its creation (dormant). */
export interface StateEntry {
  state: LifecycleState;
  at: number;
}

/** A fact as it arrived: the state its object was in, and how many changes it had had by then. */
export interface Arrival {
  objectId: string;
  at: number;
  state: LifecycleState;
  /** The index in the object's changes of the first change after the arrival. */
  mark: number;
}

/** What one row (a policy, or the autostop baseline) did with the workload. */
export interface Trace {
  name: string;
  kind: "policy" | "autostop";
  /** The policy version, for a policy row. */
  policy?: { name: string; version: string; hash: string };
  changes: Map<string, StateEntry[]>;
  arrivals: Arrival[];
}

/** A span of time in one state, as the report draws it. */
export interface Segment {
  state: LifecycleState;
  from: number;
  to: number;
}

/** The latencies the simulated substrate takes to start and to resume (a start from suspended). */
export interface Latencies {
  startMs: number;
  resumeMs: number;
}

/** The longest latency the simulated driver accepts (its config's limit). */
export const MAX_LATENCY_MS = 600_000;

/** How long after the last fact the window may run when no `until` is given: 24 hours. */
export const TAIL_CAP_MS = 86_400_000;

/** Thrown for an input that cannot be simulated: a bad traffic line, an unknown policy or object. */
export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimulationError";
  }
}

/**
 * The first object's creation time (Infinity for none). A loop, not Math.min(...): a spread of one
 * argument per object overflows the stack past about 120,000 objects.
 */
export function earliestCreation(workload: Workload): number {
  let from = Infinity;
  for (const x of workload.objects) if (x.createdAt < from) from = x.createdAt;
  return from;
}
