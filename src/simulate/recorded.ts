// A workload from recorded history (`--db URL --object ID...`): each object is created at its
// recorded creation with its initial memory (journal entry 0), and every journaled fact arrives
// again at its recorded time, in the order it was journaled. Where retention folded the journal
// into a snapshot, the object starts there with the snapshot's memory: what came before is gone.

import { isSameObject } from "../core/object.ts";
import type { Store } from "../core/store.ts";
import type { SimObject, TrafficFact, Workload } from "./model.ts";
import { SimulationError } from "./model.ts";
import { readHistory } from "../what-if/history.ts";
import { workloadOf } from "./traffic.ts";

/** Reads the objects' journals (a page at a time, into memory: a simulation holds its workload). */
export async function recordedWorkload(store: Store, ids: string[]): Promise<Workload> {
  const objects: SimObject[] = [];
  const facts: TrafficFact[] = [];
  for (const id of new Set(ids)) {
    const object = await store.getObject(id);
    if (!object) throw new SimulationError(`no object "${id}" in the database`);
    let created: SimObject = { id, createdAt: object.createdAt, memory: {} };
    // The facts arrive in the order they were journaled, which is the order the server applied
    // them. A server's clock can step back (NTP, a VM resumed): an entry recorded earlier than
    // the one before it, or than the creation, arrives at that one's time, as a replay posts it
    // and as usage counts such a change. Sorted by their recorded times, the facts would be
    // applied out of order (another memory than the server's), and one before the creation would
    // reach an object not created yet.
    let latest = -Infinity;
    for await (const e of readHistory(store, object).journal()) {
      const at = Math.max(e.at, latest);
      latest = at;
      if (e.kind === "snapshot") created = { id, createdAt: at, memory: e.patch };
      else if (e.seq === 0) created = { id, createdAt: at, memory: e.patch };
      else facts.push({ at, objectId: id, facts: e.patch, source: `${id} journal entry ${e.seq}` });
    }
    // A server may delete the object while its journal is read a page at a time (its history
    // goes a batch at a time), or delete it and create it again, whose first entries the read
    // then took for the old object's (it ends at the old one's memory version).
    if (!isSameObject(object, await store.getObject(id)))
      throw new SimulationError(`object "${id}" was deleted while its history was read; simulate again`);
    objects.push(created);
  }
  // Facts in time order; the objects in the order they were created, as a traffic file's come
  // (every row of the report draws the first ones), and recorded: their memory was accepted once.
  objects.sort((a, b) => a.createdAt - b.createdAt);
  return { objects, facts: workloadOf(facts).facts, recorded: true };
}
