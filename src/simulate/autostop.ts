// The baseline: request-driven autostop, as a platform's proxy does it. Any fact starts a
// dormant object (the start latency the first time, the resume latency after: it suspends, so
// that it resumes like a policy that sleeps by suspending); it stops once no fact has come for
// the quiet time, and is dormant at once (no stop latency, as for the policies' simulated
// substrate). It knows nothing of memory: what governing by memory buys shows against it.

import type { Latencies, Trace, Workload } from "./model.ts";
import { Timeline } from "./timeline.ts";

export interface AutostopOptions extends Latencies {
  /** Stop once no fact has come for this long (and the object is active). */
  quietMs: number;
}

interface Machine {
  started: boolean;
  /** When a wake under way completes. */
  activeAt: number;
  lastFactAt: number;
}

/**
 * Runs the baseline over the workload. Unlike a policy's run it needs no clock: it is a fold.
 * Every object ends dormant, so its last change is when the baseline has settled; the window
 * decides how much of it is counted.
 */
export function runAutostop(workload: Workload, o: AutostopOptions, name = "autostop"): Trace {
  const timeline = new Timeline();
  const machines = new Map<string, Machine>();
  for (const obj of workload.objects) {
    timeline.create(obj.id, obj.createdAt);
    machines.set(obj.id, { started: false, activeAt: 0, lastFactAt: obj.createdAt });
  }
  /** Moves the object through what happens before `at`: its wake completing, its stop. */
  const catchUp = (id: string, m: Machine, at: number) => {
    if (timeline.state(id) === "waking" && m.activeAt <= at) timeline.move(id, "active", m.activeAt);
    // A fact at the very moment of the stop keeps it running.
    const stopAt = Math.max(m.activeAt, m.lastFactAt + o.quietMs);
    if (timeline.state(id) === "active" && stopAt < at) timeline.move(id, "dormant", stopAt);
  };
  for (const f of workload.facts) {
    const m = machines.get(f.objectId);
    if (!m) continue;
    catchUp(f.objectId, m, f.at);
    timeline.arrive(f.objectId, f.at);
    if (timeline.state(f.objectId) === "dormant") {
      m.activeAt = f.at + (m.started ? o.resumeMs : o.startMs);
      m.started = true;
      timeline.move(f.objectId, "waking", f.at);
    }
    m.lastFactAt = f.at;
  }
  for (const [id, m] of machines) catchUp(id, m, Infinity);
  return { name, kind: "autostop", changes: timeline.changes, arrivals: timeline.arrivals };
}

/** When the baseline has settled: every object dormant for good. */
export function settledAt(trace: Trace): number {
  let at = -Infinity;
  for (const list of trace.changes.values()) at = Math.max(at, list[list.length - 1]!.at);
  return at;
}
