// What the event stream follows: the governor's typed events (events.ts) as committed changes,
// a stored decision, an action's new status or an object's deletion, and the decision cursor a client's last event
// id stands for when it resumes.

import type { ActionRecord } from "../core/store.ts";
import type { Decision } from "../core/types.ts";
import type { GovernorEvents } from "./events.ts";
import type { LiveChange } from "./services.ts";

/**
 * Calls `listener` with each stored decision, action change and deletion; returns the function that stops
 * it. A listener that throws is reported, never thrown into the arrival that emitted the event.
 */
export function watchChanges(
  events: GovernorEvents,
  listener: (change: LiveChange) => void,
  onError: (error: Error) => void,
): () => void {
  const safe = (change: LiveChange) => {
    try {
      listener(change);
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const decision = (d: Decision) => safe({ kind: "decision", decision: d });
  const dispatched = (action: ActionRecord) => safe({ kind: "action", action, change: "dispatched" });
  const confirmed = (action: ActionRecord) => safe({ kind: "action", action, change: "confirmed" });
  const retrying = (action: ActionRecord, error: string) => safe({ kind: "action", action, change: "retrying", error });
  const failed = (action: ActionRecord, error: string) => safe({ kind: "action", action, change: "failed", error });
  const superseded = (action: ActionRecord) => safe({ kind: "action", action, change: "superseded" });
  const deleted = (objectId: string, at: number) => safe({ kind: "deletion", objectId, at });
  events.on("decision:recorded", decision);
  events.on("action:dispatched", dispatched);
  events.on("action:confirmed", confirmed);
  events.on("action:retrying", retrying);
  events.on("action:failed", failed);
  events.on("action:superseded", superseded);
  events.on("object:deleted", deleted);
  return () => {
    events.off("decision:recorded", decision);
    events.off("action:dispatched", dispatched);
    events.off("action:confirmed", confirmed);
    events.off("action:retrying", retrying);
    events.off("action:failed", failed);
    events.off("action:superseded", superseded);
    events.off("object:deleted", deleted);
  };
}

/** A cursor before every decision id (a prefix, then 13 digits, as ids.ts mints them): where a stream resumes when none is stored yet. */
export const BEFORE_ANY_DECISION = `dec_${"0".repeat(13)}`;

/**
 * The decision cursor of an event id. Decision and action ids come from one factory (ids.ts):
 * the same clock and counter after their prefix, so `act_X` sorts among decisions as `dec_X`
 * (after the decisions taken before the action; its own decision, minted just after it, too).
 */
export function decisionCursor(eventId: string): string {
  return eventId.startsWith("act_") ? `dec_${eventId.slice(4)}` : eventId;
}
