// Following objects' states as a simulation goes: every change in order, and every fact's
// arrival with the state its object was in. Both the policy runs and the autostop baseline
// write here; the statistics and the report read the result.

import type { LifecycleState } from "../core/types.ts";
import type { Arrival, Segment, StateEntry } from "./model.ts";

export class Timeline {
  readonly changes = new Map<string, StateEntry[]>();
  readonly arrivals: Arrival[] = [];
  private notDormant = 0;

  /** The object exists from `at`, dormant. */
  create(objectId: string, at: number): void {
    this.changes.set(objectId, [{ state: "dormant", at }]);
  }

  /** The object's current state (undefined before it is created). */
  state(objectId: string): LifecycleState | undefined {
    const list = this.changes.get(objectId);
    return list?.[list.length - 1]?.state;
  }

  /** The object entered `state` at `at`; staying where it is changes nothing. */
  move(objectId: string, state: LifecycleState, at: number): void {
    const list = this.changes.get(objectId);
    if (!list) throw new Error(`object ${objectId} moved before it was created`);
    const from = list[list.length - 1]!.state;
    if (from === state) return;
    if (from === "dormant") this.notDormant++;
    if (state === "dormant") this.notDormant--;
    list.push({ state, at });
  }

  /** A fact arrives for the object now, before it is evaluated. */
  arrive(objectId: string, at: number): void {
    const list = this.changes.get(objectId);
    if (!list) throw new Error(`a fact for ${objectId} before it was created`);
    this.arrivals.push({ objectId, at, state: list[list.length - 1]!.state, mark: list.length });
  }

  /** True when every object is dormant. */
  get allDormant(): boolean {
    return this.notDormant === 0;
  }
}

/**
 * An object's changes as spans up to `end`: the last runs until `end`, changes after it are
 * left out, and spans of no time (a start that took none) are dropped.
 */
export function segmentsOf(changes: readonly StateEntry[], end: number): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < changes.length; i++) {
    const from = changes[i]!.at;
    if (from >= end) break;
    const to = Math.min(changes[i + 1]?.at ?? end, end);
    if (to > from) out.push({ state: changes[i]!.state, from, to });
  }
  return out;
}
