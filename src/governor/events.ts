// Typed events, named noun:verb, for what tests, logs and observers watch.

import { EventEmitter } from "node:events";
import type { Decision, Observation } from "../core/types.ts";
import type { ActionRecord } from "../core/store.ts";

export interface GovernorEventMap {
  "decision:recorded": [decision: Decision];
  /** Every evaluation, stored or only counted (a quiet timer tick). */
  "evaluation:completed": [decision: Decision, stored: boolean];
  "action:dispatched": [action: ActionRecord];
  "action:confirmed": [action: ActionRecord, observation: Observation];
  "action:retrying": [action: ActionRecord, error: string];
  "action:failed": [action: ActionRecord, error: string];
  "substrate:observed": [objectId: string, observation: Observation];
  "timer:fired": [objectId: string, name: string, late: boolean];
  "governor:error": [error: Error, context: string];
}

export class GovernorEvents extends EventEmitter<GovernorEventMap> {}
