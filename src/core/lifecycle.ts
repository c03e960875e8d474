// The lifecycle state machine: dormant -> waking -> active -> sleeping -> dormant, and failed
// when the substrate keeps refusing. An outcome asks for a transition; a driver confirmation or
// an observation completes it.

import type { ActionKind, LifecycleState, ObjectRecord, Outcome, SleepMode } from "./types.ts";

const awake = (s: LifecycleState) => s === "waking" || s === "active";

/**
 * The state fields of `o` after it moves to `state` at `now`. Staying is no change; a move
 * restarts `stateSince`; `wokeAt` is set when the object wakes and kept from waking to active.
 */
export function enter(
  o: Pick<ObjectRecord, "state" | "stateSince" | "wokeAt">,
  state: LifecycleState,
  now: number,
): Pick<ObjectRecord, "state" | "stateSince" | "wokeAt"> {
  if (state === o.state) return { state, stateSince: o.stateSince, wokeAt: o.wokeAt };
  const wokeAt = !awake(state) ? null : awake(o.state) ? (o.wokeAt ?? o.stateSince) : now;
  return { state, stateSince: now, wokeAt };
}

export interface Transition {
  toState: LifecycleState;
  action: ActionKind | null;
  notes: string[];
}

/**
 * What an outcome does in a state. `canSuspend` is false for drivers without suspend: the
 * object is stopped instead, and the note says so.
 */
export function transition(
  state: LifecycleState,
  outcome: Outcome,
  mode: SleepMode,
  canSuspend: boolean,
  driver: string,
): Transition {
  if (outcome === "wake" || outcome === "hold-active") {
    if (state === "dormant" || state === "sleeping" || state === "failed") {
      return { toState: "waking", action: "start", notes: [] };
    }
    return { toState: state, action: null, notes: [] };
  }
  if (outcome === "dormancy") {
    if (state === "active" || state === "waking" || state === "failed") {
      if (mode === "suspend" && !canSuspend) {
        return {
          toState: "sleeping",
          action: "stop",
          notes: [`driver ${driver} cannot suspend: stopping instead`],
        };
      }
      return { toState: "sleeping", action: mode, notes: [] };
    }
    return { toState: state, action: null, notes: [] };
  }
  return { toState: state, action: null, notes: [] };
}

/** The state a confirmed action leads to, when the object is still where the action left it. */
export function confirmedState(state: LifecycleState, action: ActionKind): LifecycleState | null {
  if (action === "start" && state === "waking") return "active";
  if ((action === "suspend" || action === "stop") && state === "sleeping") return "dormant";
  return null;
}

/** The governed state that matches what the substrate reports, for a change Vigil did not ask for. */
export function observedState(status: "running" | "suspended" | "stopped" | "unknown"): LifecycleState | null {
  if (status === "running") return "active";
  if (status === "suspended" || status === "stopped") return "dormant";
  return null;
}
