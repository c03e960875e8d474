// What-if work the edges may ask for on a live server: replaying a candidate policy over an
// object's recorded history. (Dry runs of one arrival are the governor's own: they need the
// object's hot record and nothing else.)

import { conflict, notFound } from "../core/errors.ts";
import { checkObjectId, isSameObject } from "../core/object.ts";
import type { Store } from "../core/store.ts";
import type { ObjectRecord } from "../core/types.ts";
import { readHistory } from "./history.ts";
import type { ReplayLimits } from "./limits.ts";
import { replay, type ReplayReport } from "./replay.ts";

export interface WhatIfApi {
  /** Runs a candidate policy over the object's recorded history; nothing is stored. */
  replay(objectId: string, policy: unknown): Promise<ReplayReport>;
}

export class WhatIf implements WhatIfApi {
  constructor(
    private readonly store: Store,
    /** The object as the governor holds it now. */
    private readonly object: (id: string) => Promise<ObjectRecord | null>,
    /** Limits on each replay; DEFAULT_REPLAY_LIMITS (limits.ts) for those not given. */
    private readonly limits: Partial<ReplayLimits> = {},
  ) {}

  async replay(objectId: string, policy: unknown): Promise<ReplayReport> {
    checkObjectId(objectId);
    const object = await this.object(objectId);
    if (!object) throw notFound(`object "${objectId}"`);
    const report = await replay(object, readHistory(this.store, object), policy, this.limits);
    sameObject(object, await this.object(objectId));
    return report;
  }
}

/**
 * Checks that the object a replay read the history of is still there, the same one. Reading the
 * history gives the event loop turns: the object may be deleted meanwhile (its history goes a
 * batch at a time), or deleted and created again, and the pages read then hold part of its
 * history, or the new object's decisions and facts taken for its own (readHistory ends where the
 * replayed record did, which the new one's first entries come before). The report would show
 * differences that never happened: it is a 404, or a 409 to send again.
 */
export function sameObject(replayed: ObjectRecord, now: ObjectRecord | null): void {
  if (!now) throw notFound(`object "${replayed.id}"`);
  if (!isSameObject(replayed, now))
    throw conflict(`object "${replayed.id}" was deleted and created again while it was replayed; replay it again`);
}
