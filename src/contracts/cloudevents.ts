// CloudEvents 1.0 (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md) as
// POST /v1/cloudevents reads them: an event is an arrival of facts, `subject` naming the object
// and `data` the merge patch. The structured JSON format (json-format.md) is the schema below;
// binary mode (http-protocol-binding.md) maps its `ce-*` headers onto the same attributes, so
// one schema words every mistake. The `cloudevents` SDK is not used for reading: it validates
// loosely on the way in (a falsy attribute is dropped, no paths in its errors).

import { z } from "zod";
import { ADDRESSABLE_OBJECT_ID_HELP, ADDRESSABLE_OBJECT_ID_PATTERN } from "../core/object.ts";
import { batchReply } from "./api-replies.ts";
import { jsonRecord } from "./json.ts";

/** The only spec version this server reads. */
export const CLOUDEVENTS_SPECVERSION = "1.0";
/** Structured mode: the whole event is the body, in the JSON event format. */
export const STRUCTURED_MEDIA_TYPE = "application/cloudevents+json";
/** Batch mode: a JSON array of structured events. */
export const BATCH_MEDIA_TYPE = "application/cloudevents-batch+json";
/** Events in one batch, as for `POST /v1/facts`. */
export const MAX_BATCH_EVENTS = 1000;

/** What `subject` must be here (the spec leaves it optional; Vigil needs it). */
export const SUBJECT_HELP = "required here: the object id the facts are for";

/** `type/subtype` with `subtype` `json` or `...+json`, parameters stripped and lowercased. */
/**
 * An RFC 3339 timestamp (section 5.6), as CloudEvents' `time` is: `T` and `Z` in either case, a
 * leap second, any fraction, and `Z` or an offset. (zod's ISO date-time is stricter.)
 */
const RFC3339 =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Whether an RFC 3339 timestamp's date is one the calendar has (RFC 3339 5.7): not 2026-02-30. */
function realDate(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  // Day 0 of the next month is this month's last; the calendar repeats every 400 years (and
  // Date.UTC reads years 0-99 as 1900-1999).
  return day <= new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate();
}

const JSON_MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/(?:[a-z0-9!#$&^_.+-]*\+)?json$/;

/** The media type of a Content-Type value (or `datacontenttype`): lowercased, no parameters. */
export function mediaTypeOf(value: string): string {
  return value.split(";")[0]!.trim().toLowerCase();
}

/** Whether a media type (parameters allowed) is JSON: `application/json` or any `+json`. */
export function isJsonMediaType(value: string): boolean {
  return JSON_MEDIA_TYPE.test(mediaTypeOf(value));
}

/** A message for a missing attribute, another for a present one of the wrong type. */
const typed = (expected: string, missing = "required") => ({
  error: (issue: { input?: unknown }) => (absent(issue.input) ? missing : `expected ${expected}`),
});

/** The JSON format reads an attribute set to `null` as absent (json-format.md 3.1). */
const absent = (value: unknown) => value === undefined || value === null;

/**
 * What CloudEvents' String type forbids (spec.md, "Type System"): control characters (U+0000 to
 * U+001F, U+007F to U+009F), noncharacters and surrogates not in a pair.
 */
const NOT_IN_A_STRING = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
const STRING_RULE = "must not hold control characters, noncharacters or unpaired surrogates (a CloudEvents String)";
const cloudEventString = <S extends z.ZodType<string>>(schema: S) =>
  schema.refine((value) => !NOT_IN_A_STRING.test(value), STRING_RULE);

const nonEmpty = () => cloudEventString(z.string(typed("a string")).min(1, "must not be empty"));

/** Optional attributes, `null` included (see {@link absent}). */
const optional = <S extends z.ZodType>(schema: S) => schema.nullish();

/**
 * One event in the JSON event format, as the body of structured mode and each item of a batch.
 * Extension attributes (any other member) are allowed and ignored.
 */
export const cloudEventSchema = z
  .looseObject({
    specversion: z
      .literal(CLOUDEVENTS_SPECVERSION, {
        error: (issue) => (absent(issue.input) ? "required" : `must be "${CLOUDEVENTS_SPECVERSION}" (CloudEvents 1.0)`),
      })
      .describe('The CloudEvents spec version; only "1.0"'),
    id: nonEmpty().describe("Identifies the event; with `source`, the idempotency key"),
    source: nonEmpty().describe("The context the event happened in (a URI-reference)"),
    type: nonEmpty().describe("The kind of event; Vigil does not interpret it"),
    subject: z
      .string(typed("a string", SUBJECT_HELP))
      .regex(ADDRESSABLE_OBJECT_ID_PATTERN, ADDRESSABLE_OBJECT_ID_HELP)
      .describe("The id of the object the facts are for"),
    datacontenttype: optional(
      cloudEventString(z.string(typed("a string"))).refine(
        isJsonMediaType,
        "must be JSON: application/json or a +json media type",
      ),
    ).describe("The media type of `data`; JSON when absent"),
    // Looked at before the URL is parsed: the parser drops tabs and line breaks from what it takes.
    dataschema: optional(cloudEventString(z.string(typed("a URI"))).pipe(z.url(typed("a URI")))),
    time: optional(
      z
        .string(typed("a string"))
        .regex(RFC3339, "expected an RFC 3339 timestamp")
        // Only a timestamp of the right form is looked at for its date (one message a value).
        .refine(realDate, { message: "is not a date the calendar has", when: (p) => p.issues.length === 0 }),
    ).describe("When the event happened (RFC 3339); Vigil does not interpret it"),
    data: jsonRecord(typed("a JSON object", "required: the facts, a JSON object")).describe(
      "The facts: a JSON Merge Patch (RFC 7396) for the object's memory",
    ),
    data_base64: optional(z.never({ error: "binary data cannot be facts; send a JSON object as data" })).describe(
      "Not accepted: facts are JSON",
    ),
  })
  .meta({
    id: "CloudEvent",
    description: "A CloudEvent in the JSON event format: an arrival of facts for the object `subject`",
  });

export type CloudEvent = z.output<typeof cloudEventSchema>;

/** The body of batch mode (each event is validated, and fails, on its own). */
export const cloudEventBatchSchema = z
  .array(cloudEventSchema)
  .max(MAX_BATCH_EVENTS)
  .describe("A batch of CloudEvents; each is applied, or fails, on its own");

/** The outer shape of a batch, checked before its events are read one by one. */
export const batchEnvelopeSchema = z
  .array(z.unknown(), typed("a JSON array of events"))
  .max(MAX_BATCH_EVENTS, `a batch holds at most ${MAX_BATCH_EVENTS} events`);

/** The attributes binary mode carries as headers (`ce-` + name); `data` is the body. */
export const BINARY_ATTRIBUTES = ["specversion", "id", "source", "type", "subject", "time", "dataschema"] as const;

/** The reply to a batch: `POST /v1/facts`'s items; `objectId` is null when the event had no usable subject. */
export const cloudEventBatchReply = z.object({
  results: z.array(
    batchReply.shape.results.element.extend({
      objectId: z.string().nullable().describe("The event's subject; null when it had none (see `error`)"),
    }),
  ),
});
