// Facts: a merge patch for one object's memory, evaluated and committed in its mailbox, with
// an optional idempotency key; and batches across objects in which each item stands alone.

import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import { conflict, invalid, notFound } from "../core/errors.ts";
import { canonicalJson, isPlainObject } from "../core/json.ts";
import { checkObjectId } from "../core/object.ts";
import type { Store } from "../core/store.ts";
import type { Decision, Json, ObjectRecord } from "../core/types.ts";
import type { ArrivalPipeline, IdempotencyRecord } from "./arrival.ts";
import type { ObjectTable } from "./object-table.ts";
import type { BatchItem, BatchItemResult, FactsResult } from "./services.ts";

/** What an idempotency row keeps: the request's fingerprint and the result it had. */
interface IdempotentRow {
  request: string;
  object: ObjectRecord;
  decision: Decision;
}

export interface IngestDeps {
  table: ObjectTable;
  arrival: ArrivalPipeline;
  store: Store;
  policy: (name: string, path: string) => CompiledPolicy;
  clock: Clock;
}

export class Ingest {
  constructor(private readonly d: IngestDeps) {}

  async post(id: string, facts: unknown, idempotencyKey?: string): Promise<FactsResult> {
    checkObjectId(id);
    if (!isPlainObject(facts))
      throw invalid("facts must be a JSON object (a merge patch for memory)", [
        { path: "$.facts", message: "expected an object" },
      ]);
    const fingerprint =
      idempotencyKey === undefined ? "" : createHash("sha256").update(canonicalJson(facts)).digest("hex");
    const { table } = this.d;
    return table.run(id, async () => {
      const object = table.get(id);
      if (!object) throw notFound(`object "${id}"`);
      if (idempotencyKey !== undefined) {
        const seen = (await this.d.store.getIdempotent(id, idempotencyKey)) as IdempotentRow | null;
        if (seen) {
          if (seen.request !== fingerprint)
            throw conflict(`Idempotency-Key "${idempotencyKey}" was used with a different body`);
          return { object: seen.object, decision: seen.decision, replayed: true };
        }
      }
      const policy = this.d.policy(object.policy, "$.policy");
      const remember: IdempotencyRecord | undefined =
        idempotencyKey === undefined
          ? undefined
          : (o, decision) => ({
              key: idempotencyKey,
              response: { request: fingerprint, object: o, decision } as unknown as Json,
            });
      const done = await this.d.arrival.run(
        object,
        policy,
        { trigger: { kind: "facts" }, at: this.d.clock.now(), patch: facts },
        remember,
      );
      return { ...done, replayed: false };
    });
  }

  /** Every item on its own: one failing item carries its error, the others are applied. */
  postBatch(items: BatchItem[]): Promise<BatchItemResult[]> {
    return Promise.all(
      items.map(async (item): Promise<BatchItemResult> => {
        try {
          const r = await this.post(item.objectId, item.facts, item.idempotencyKey);
          return { objectId: item.objectId, decision: r.decision };
        } catch (error) {
          return { objectId: item.objectId, error };
        }
      }),
    );
  }
}
