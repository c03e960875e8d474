// Typed events, named noun:verb, for what tests, logs and observers watch.

import { EventEmitter } from "node:events";
import type { Decision, Observation } from "../core/types.ts";
import type { ActionRecord } from "../core/store.ts";

export interface GovernorEventMap {
  "decision:recorded": [decision: Decision];
  /**
   * Every evaluation, stored or only counted (a quiet timer tick), once committed; `ms` is the
   * wall time from the start of its evaluation in the object's mailbox to its durable commit.
   */
  "evaluation:completed": [decision: Decision, stored: boolean, ms: number];
  /** `driver`: the driver the action was sent to (the object's binding may change before it answers). */
  "action:dispatched": [action: ActionRecord, driver: string];
  "action:confirmed": [action: ActionRecord, observation: Observation];
  "action:retrying": [action: ActionRecord, error: string];
  "action:failed": [action: ActionRecord, error: string];
  /**
   * A queued action a newer decision replaced before it reached the driver (committed); `driver`,
   * the binding it was queued for when the object has another one now (a rebind dropped it).
   */
  "action:superseded": [action: ActionRecord, driver?: string];
  "substrate:observed": [objectId: string, observation: Observation];
  /** An object was deleted (committed) at `at`, epoch ms on the governor's clock. */
  "object:deleted": [objectId: string, at: number];
  /** `lagMs`: how long after its due time the timer was fired (on the governor's clock). */
  "timer:fired": [objectId: string, name: string, late: boolean, lagMs: number];
  /** A due timer whose evaluation failed (a rule threw), used up all the same; `lagMs` as for `timer:fired`. */
  "timer:failed": [objectId: string, name: string, late: boolean, lagMs: number];
  /** One transaction of the group committer is durable, with `batches` arrivals in it. */
  "commit:completed": [batches: number];
  "governor:error": [error: Error, context: string];
  /** What a readiness probe found changed: why the governor is not ready, or null when it is again. */
  "readiness:changed": [notReady: string | null];
}

export class GovernorEvents extends EventEmitter<GovernorEventMap> {
  /**
   * Tells watchers that these queued actions were superseded at `at` (after the commit that
   * records it); `driver`, the binding they were queued for, when a rebind dropped them.
   */
  superseded(actions: readonly ActionRecord[], at: number, driver?: string): void {
    for (const a of actions) this.emit("action:superseded", { ...a, status: "superseded", updatedAt: at }, driver);
  }
}
