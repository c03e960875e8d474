// What-if work the edges may ask for on a live server: replaying a candidate policy over an
// object's recorded history. (Dry runs of one arrival are the governor's own: they need the
// object's hot record and nothing else.)

import { notFound } from "../core/errors.ts";
import { checkObjectId } from "../core/object.ts";
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
    return replay(object, readHistory(this.store, object), policy, this.limits);
  }
}
