// Facts: a merge patch for one object's memory, evaluated and committed in its mailbox, with
// an optional idempotency key; and batches across objects in which each item stands alone.

import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { CompiledPolicy } from "../core/compile.ts";
import {
  checkPrecondition,
  conflict,
  invalid,
  notFound,
  ReplayGone,
  VigilError,
  type Precondition,
} from "../core/errors.ts";
import { canonicalJson, describeJson, isPlainObject } from "../core/json.ts";
import { checkAddressableObjectId } from "../core/object.ts";
import type { Store } from "../core/store.ts";
import type { JsonObject } from "../core/types.ts";
import type { ArrivalPipeline } from "./arrival.ts";
import type { ObjectTable } from "./object-table.ts";
import type { BatchItem, BatchItemResult, FactsResult } from "./services.ts";

export interface IngestDeps {
  table: ObjectTable;
  arrival: ArrivalPipeline;
  store: Store;
  /** The object's policy; throws PolicyNotLoaded when it is not loaded. */
  policy: (name: string) => CompiledPolicy;
  /** The policy loaded now under a name, if any. */
  loaded: (name: string) => CompiledPolicy | null;
  clock: Clock;
}

export class Ingest {
  constructor(private readonly d: IngestDeps) {}

  async post(id: string, facts: unknown, idempotencyKey?: string, precondition?: Precondition): Promise<FactsResult> {
    checkAddressableObjectId(id);
    if (!isPlainObject(facts))
      throw invalid("facts must be a JSON object (a merge patch for memory)", [
        { path: "$.facts", message: `expected an object, got ${describeJson(facts)}` },
      ]);
    const fingerprint =
      idempotencyKey === undefined ? "" : createHash("sha256").update(canonicalJson(facts)).digest("hex");
    const { table } = this.d;
    return table.admit(id, async () => {
      const object = await table.take(id);
      if (!object) throw notFound(`object "${id}"`);
      // After the 404, as DELETE does (RFC 9110 13.2.1: preconditions apply to what would be a 2xx).
      checkPrecondition(precondition, id, true);
      if (idempotencyKey !== undefined) {
        const seen = await this.d.store.getIdempotent(id, idempotencyKey);
        if (seen) {
          if (seen.fingerprint !== fingerprint && seen.fingerprint !== legacyFingerprint(facts))
            throw conflict(`Idempotency-Key "${idempotencyKey}" was used with a different body`);
          // The same decision, its actions' status as it is now, and the object as it is now.
          const decision = await this.d.store.getDecision(seen.decisionId);
          if (!decision)
            throw new ReplayGone(
              `Idempotency-Key "${idempotencyKey}" was used; its decision ${seen.decisionId} is no longer kept`,
              seen.decisionId,
            );
          return { object, decision, replayed: true, version: this.d.loaded(object.policy)?.version ?? null };
        }
      }
      const policy = this.d.policy(object.policy);
      const done = await this.d.arrival.run(
        object,
        policy,
        { trigger: { kind: "facts" }, at: this.d.clock.now(), patch: facts },
        idempotencyKey === undefined ? {} : { idempotency: { key: idempotencyKey, fingerprint } },
      );
      return { ...done, replayed: false, version: policy.version };
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
          return { objectId: item.objectId, error: asBatchItemError(error) };
        }
      }),
    );
  }
}

/**
 * The fingerprint a Vigil before canonical fingerprints (commit 4d38a04) kept: sha256 of the
 * facts' JSON text in the order the request wrote their keys. A key it stored must still take an
 * honest retry, the same bytes again, after an upgrade. Which rows it wrote cannot be told (the
 * reply that held the old rows' shape is gone since migration 0003), so a retry matching it is
 * accepted for any row: JSON text with the keys in some order names one document, as canonical
 * text does. Except for a number JSON cannot hold, which JSON.stringify writes as `null`: such a
 * body has no legacy fingerprint, or `{"a":1e400}` would replay a key first used with `{"a":null}`.
 */
function legacyFingerprint(facts: JsonObject): string | null {
  if (!allFinite(facts)) return null;
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex");
}

function allFinite(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (value === null || typeof value !== "object") return true;
  return Object.values(value).every(allFinite);
}

/** An item's problems name its own fields: the id it was given is its `objectId`. */
function asBatchItemError(error: unknown): unknown {
  if (!(error instanceof VigilError) || !error.problems.some((p) => p.path === "$.id")) return error;
  const problems = error.problems.map((p) => (p.path === "$.id" ? { ...p, path: "$.objectId" } : p));
  return new VigilError(error.kind, error.message, problems);
}
