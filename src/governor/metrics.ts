// The governor's census for metrics: how many objects each policy has in each state, and how
// long they have spent there since the server started, kept as commits happen so that a scrape
// costs a few numbers per policy and state, never a read of a million rows.
//
// Counting starts from the store's counts at start (Store.countObjects, which reads indexes).
// From then on every committed change reaches `replaced` or `deleted` (governor/object-table.ts)
// with the time it was committed: a stay in a state ends, another begins. The seconds of a
// policy and state since `start` are
//     objects now * (now - start) + sum over stays that ended (t - start) - sum over stays that began (t - start)
// which is, summed over objects, each stay's time within [start, now]: a stay under way at
// start counts from start, one under way now counts up to now. Only the counts and the two
// sums are kept, so nothing grows with the number of objects; and since a change ends one stay
// and begins the next at the same `t`, the seconds never go down.
//
// A change reports the record it replaced: the hot copy, or, for a dormant object not held in
// memory (VIGIL_HOT_OBJECTS=0, or dropped from the hot set meanwhile), the record its mailbox
// task took (governor/object-table.ts), so that a policy change or a delete still moves it out
// of the count it was in.

import type { Clock } from "../core/clock.ts";
import type { ObjectCount } from "../core/store.ts";
import type { Decision, LifecycleState, ObjectRecord } from "../core/types.ts";

/** One policy and state: its objects now and the seconds they spent in it since the start. */
export interface CensusRow {
  policy: string;
  state: LifecycleState;
  objects: number;
  seconds: number;
}

interface Cell {
  policy: string;
  state: LifecycleState;
  objects: number;
  /** Sum over stays that ended of (t - start), minus the same over stays that began, in ms. */
  offsetMs: number;
  /** The seconds last reported: a clock set back must not make a counter go down. */
  reported: number;
}

export class Census {
  private readonly cells = new Map<string, Cell>();
  private start: number;

  constructor(private readonly clock: Pick<Clock, "now">) {
    this.start = clock.now();
  }

  /** Starts counting again now, from the store's counts. */
  reset(counts: readonly ObjectCount[]): void {
    this.cells.clear();
    this.start = this.clock.now();
    for (const c of counts) this.cell(c.policy, c.state).objects += c.objects;
  }

  /**
   * A change of an object, just committed (see TableObserver.replaced). Without `before` the
   * object is new (its decision has trigger `create`), or else is taken to have been dormant
   * (an object that is not dormant is always in memory). Called for every commit: most change
   * neither state nor policy, and cost two comparisons.
   */
  replaced(before: ObjectRecord | undefined, after: ObjectRecord, decision: Decision | null): void {
    if (!before) {
      if (decision?.trigger.kind === "create") this.began(after.policy, after.state, this.clock.now());
      else this.moved(after.policy, "dormant", after);
      return;
    }
    this.moved(before.policy, before.state, after);
  }

  /** An object deleted just now (its hot copy, if it had one). */
  deleted(before: ObjectRecord | undefined): void {
    if (before) this.ended(before.policy, before.state, this.clock.now());
  }

  /** How many objects of each policy are in each state now. */
  counts(): ObjectCount[] {
    return [...this.cells.values()].map((c) => ({ policy: c.policy, state: c.state, objects: c.objects }));
  }

  /** Every policy and state seen since the start, with the seconds up to now. */
  rows(): CensusRow[] {
    const elapsed = Math.max(0, this.clock.now() - this.start);
    return [...this.cells.values()].map((c) => {
      c.reported = Math.max(c.reported, (c.objects * elapsed + c.offsetMs) / 1000);
      return { policy: c.policy, state: c.state, objects: c.objects, seconds: c.reported };
    });
  }

  /** The stay in `policy` and `state` ends now and the object's next begins, if they differ. */
  private moved(policy: string, state: LifecycleState, after: ObjectRecord): void {
    if (policy === after.policy && state === after.state) return;
    const at = this.clock.now();
    this.ended(policy, state, at);
    this.began(after.policy, after.state, at);
  }

  private began(policy: string, state: LifecycleState, at: number): void {
    const c = this.cell(policy, state);
    c.objects++;
    c.offsetMs -= Math.max(0, at - this.start);
  }

  private ended(policy: string, state: LifecycleState, at: number): void {
    const c = this.cell(policy, state);
    // Never below zero: an object the census could not place (see `replaced`) is not taken
    // from a count that does not hold it.
    if (c.objects === 0) return;
    c.objects--;
    c.offsetMs += Math.max(0, at - this.start);
  }

  private cell(policy: string, state: LifecycleState): Cell {
    const key = `${policy}\u0000${state}`;
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { policy, state, objects: 0, offsetMs: 0, reported: 0 }));
    return c;
  }
}
