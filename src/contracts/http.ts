// Request bodies and query strings of HTTP API v1. The HTTP layer validates with these;
// the views it answers with are in http/views.ts.

import { z } from "zod";
import { MAX_DURATION_MS } from "../core/durations.ts";
import { LATEST_INSTANT_MS } from "../core/instants.ts";
import {
  ADDRESSABLE_OBJECT_ID_HELP,
  ADDRESSABLE_OBJECT_ID_PATTERN,
  OBJECT_ID_HELP,
  OBJECT_ID_PATTERN,
} from "../core/object.ts";
import { LIFECYCLE_STATES } from "../core/types.ts";
import { instantSchema } from "./instant.ts";
import { jsonObject } from "./json.ts";
import { NAME_HELP, NAME_PATTERN } from "./policy.ts";

export const objectIdSchema = z.string().regex(OBJECT_ID_PATTERN, OBJECT_ID_HELP);

/** An id a URL can name: `.` and `..` match the pattern, but no object is created with one. */
export const addressableObjectIdSchema = z.string().regex(ADDRESSABLE_OBJECT_ID_PATTERN, ADDRESSABLE_OBJECT_ID_HELP);

export const substrateSchema = z.strictObject({
  driver: z.string().min(1),
  config: jsonObject.default({}),
});

export const putObjectSchema = z.strictObject({
  policy: z.string().min(1).describe("Name of a loaded policy"),
  substrate: substrateSchema.optional(),
  memory: jsonObject
    .optional()
    .describe(
      "Initial memory of a new object; on an existing one, the same memory or a 409 (memory changes through facts)",
    ),
});

export const factsBodySchema = z.strictObject({
  facts: jsonObject.describe("A JSON Merge Patch (RFC 7396) for the object's memory"),
});

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;
/** The rule IDEMPOTENCY_KEY_PATTERN holds a key to, in the words of a refusal and of the API document. */
export const IDEMPOTENCY_KEY_RULE = "1-200 printable ASCII characters, no spaces";

export const batchFactsSchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        objectId: z.string(),
        // Required, in the words the single endpoint uses (z.unknown() alone says "expected nonoptional").
        facts: z
          .unknown()
          .nonoptional({ error: "required: expected an object" })
          .describe("A JSON Merge Patch for the object's memory; checked per item"),
        idempotencyKey: z
          .string()
          .regex(IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE)
          .optional()
          .describe(`${IDEMPOTENCY_KEY_RULE}: a repeat with the same facts for the same object applies nothing`),
      }),
    )
    .min(1)
    .max(1000),
});

/**
 * The latest `at` of a dry run (9900-01-24T23:59:59.999Z): a timer its decision sets may be due
 * up to the longest duration (100 years) later, and that time too must have a four-digit year.
 */
export const LATEST_DRY_RUN_MS = LATEST_INSTANT_MS - MAX_DURATION_MS;

export const evaluateBodySchema = z.strictObject({
  facts: jsonObject.optional(),
  at: instantSchema(
    LATEST_DRY_RUN_MS,
    "a timer the dry run sets may be due up to 100 years later, and must still fall in the year 9999 at most",
  )
    .optional()
    .describe("When to evaluate (default now): from 0000-01-01T00:00:00Z to 9900-01-24T23:59:59.999Z in UTC"),
  policy: z.unknown().optional().describe("A candidate policy document to evaluate instead of the object's own"),
});

export const replayBodySchema = z.strictObject({
  policy: z.unknown().refine((v) => v !== undefined, { message: "a candidate policy document is required" }),
});

/**
 * A page size, written in decimal digits (not `1e2`, ` 5` or `0x10`, which a number coercion
 * takes): one message whichever check fails (zod would give one per check).
 */
export const pageLimit = (max: number, dflt: number) => {
  const error = `must be a whole number from 1 to ${max}`;
  return z.preprocess(
    (v) => (typeof v === "string" && /^\d{1,6}$/.test(v) ? Number(v) : v),
    z.number({ error }).int({ error }).min(1, { error }).max(max, { error }).default(dflt),
  );
};

/**
 * A policy filter (`?policy=`): a policy's name. Anything else (`a,b`, a space, 5,000 characters)
 * no object's policy can match, and is refused rather than listing nothing.
 */
export const policyFilterSchema = z.string().regex(NAME_PATTERN, `policy names are ${NAME_HELP}`);

export const listObjectsQuery = z.object({
  state: z.enum(LIFECYCLE_STATES).optional(),
  policy: policyFilterSchema.optional(),
  limit: pageLimit(500, 100),
  cursor: z.string().optional(),
});

export const deleteObjectQuery = z.object({
  compute: z
    .enum(["stop", "keep"])
    .default("stop")
    .describe("What becomes of the object's compute: stopped first (default), or left running ungoverned"),
});

export const listDecisionsQuery = z.object({
  limit: pageLimit(500, 50),
  /**
   * A decision id (`dec_` and 21 characters of lowercase base36/hex, see governor/ids.ts): list
   * older ones. A shorter one (13 at least) is a position too; a longer one no server mints.
   */
  before: z
    .string()
    .regex(/^dec_[0-9a-z]{13,21}$/, "must be a decision id (dec_ followed by 13 to 21 lowercase letters and digits)")
    .optional(),
});
