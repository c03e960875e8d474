// Request bodies and query strings of HTTP API v1, and the JSON views of objects and
// decisions (times as ISO 8601 UTC). The HTTP layer validates with these; nothing else does.

import { z } from "zod";
import type { CompiledPolicy } from "../core/compile.ts";
import type { Decision, ObjectRecord, Observation } from "../core/types.ts";
import { LIFECYCLE_STATES } from "../core/types.ts";

export const OBJECT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const objectIdSchema = z
  .string()
  .regex(OBJECT_ID_PATTERN, "object ids are 1-128 characters of A-Z a-z 0-9 . _ : -");

const jsonObject = z.record(z.string(), z.json());

export const substrateSchema = z.strictObject({
  driver: z.string().min(1),
  config: jsonObject.default({}),
});

export const putObjectSchema = z.strictObject({
  policy: z.string().min(1).describe("Name of a loaded policy"),
  substrate: substrateSchema.optional(),
  memory: jsonObject.optional().describe("Initial memory; ignored when the object exists"),
});
export type PutObjectBody = z.infer<typeof putObjectSchema>;

export const factsBodySchema = z.strictObject({
  facts: jsonObject.describe("A JSON Merge Patch (RFC 7396) for the object's memory"),
});

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export const batchFactsSchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        objectId: z.string(),
        facts: z.json(),
        idempotencyKey: z.string().optional(),
      }),
    )
    .min(1)
    .max(1000),
});

export const evaluateBodySchema = z.strictObject({
  facts: jsonObject.optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  policy: z.unknown().optional().describe("A candidate policy document to evaluate instead of the object's own"),
});

export const replayBodySchema = z.strictObject({
  policy: z.unknown().refine((v) => v !== undefined, { message: "a candidate policy document is required" }),
});

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const listObjectsQuery = z.object({
  state: z.enum(LIFECYCLE_STATES).optional(),
  policy: z.string().optional(),
  limit: limit(500, 100),
  cursor: z.string().optional(),
});

export const listDecisionsQuery = z.object({
  limit: limit(500, 50),
  /** A decision id (`dec_` and lowercase base36/hex, see governor/ids.ts): list older ones. */
  before: z
    .string()
    .regex(/^dec_[0-9a-z]{13,}$/, "must be a decision id (dec_ followed by lowercase letters and digits)")
    .optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A driver's observation with its time as ISO 8601; the driver's own fields (pid, ...) kept. */
function observedView(o: Observation): Omit<Observation, "at"> & { at: string | null } {
  return { ...o, at: iso(o.at) };
}

/** The Object of API v1. */
export function objectView(o: ObjectRecord, policy: Pick<CompiledPolicy, "name" | "version"> | null) {
  return {
    id: o.id,
    policy: { name: o.policy, version: policy?.version ?? null },
    state: o.state,
    stateSince: iso(o.stateSince),
    memory: o.memory,
    memoryVersion: o.memoryVersion,
    substrate: {
      driver: o.substrate.driver,
      config: o.substrate.config,
      observed: o.substrate.observed ? observedView(o.substrate.observed) : null,
    },
    holdUntil: iso(o.holdUntil),
    timers: o.timers.map((t) => ({ name: t.name, dueAt: iso(t.dueAt), kind: t.kind })),
    lastDecisionId: o.lastDecisionId,
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
  };
}
export type ObjectView = ReturnType<typeof objectView>;

/** The Decision of API v1. */
export function decisionView(d: Decision) {
  return {
    ...d,
    at: iso(d.at),
    timers: d.timers.map((t) => ({ ...t, ...(t.dueAt !== undefined ? { dueAt: iso(t.dueAt) } : {}) })),
  };
}
export type DecisionView = ReturnType<typeof decisionView>;
