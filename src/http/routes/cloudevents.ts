// POST /v1/cloudevents: CloudEvents 1.0 over HTTP (the spec's http-protocol-binding.md) as
// arrivals of facts. `subject` names the object, `data` is the merge patch, and `source` + `id`
// are the idempotency key, kept through the governor's Idempotency-Key machinery (so a repeat
// applies nothing, after a restart too). Three modes, told apart by the Content-Type:
// structured (`application/cloudevents+json`, the event is the body), batch
// (`application/cloudevents-batch+json`, an array of events, each applied or failing on its
// own) and binary (any JSON body; the attributes are `ce-*` headers, the body is `data`).

import { createHash } from "node:crypto";
import type { Hono } from "hono";
import { z } from "zod";
import { factsReply, minimalFactsReply } from "../../contracts/api-replies.ts";
import {
  BATCH_MEDIA_TYPE,
  BINARY_ATTRIBUTES,
  batchEnvelopeSchema,
  cloudEventBatchReply,
  cloudEventBatchSchema,
  cloudEventSchema,
  isJsonMediaType,
  mediaTypeOf,
  STRUCTURED_MEDIA_TYPE,
  type CloudEvent,
} from "../../contracts/cloudevents.ts";
import { zodProblems } from "../../contracts/problems.ts";
import { prefixProblems, ReplayGone, VigilError, type Problem } from "../../core/errors.ts";
import { checkDocument, MAX_BODY_DEPTH } from "../../core/memory-limits.ts";
import type { BatchItemResult, GovernorApi } from "../../governor/services.ts";
import { requestSeesSecrets } from "../auth.ts";
import { fieldCount, incomingOf } from "../fields.ts";
import type { RouteDeps } from "../deps.ts";
import { factsResultReply, refuseConditionalHeaders, refuseIdempotencyKeyHeader } from "../facts-endpoint.ts";
import { FACTS_REPLY_HEADERS, OBJECT_POLICY_NOT_LOADED, operation } from "../openapi.ts";
import { HttpProblem, problemBody, validationProblem, type ProblemBody } from "../problem.ts";
import { bodyText, check, parseJsonBody, preconditionOf, sentMoreThanOnce, utf8Charset } from "../validation.ts";
import { batchItemView } from "../views.ts";

type Mode = "structured" | "batch" | "binary";

export function cloudEventRoutes(app: Hono, { governor, auth, body, report }: RouteDeps): void {
  app.on("OPTIONS", "/v1/cloudevents", describeHandshake, (c) => {
    const headers: Record<string, string> = { allow: "OPTIONS, POST", "content-length": "0" };
    const origin = c.req.header("webhook-request-origin");
    if (origin !== undefined) {
      if (!ORIGIN.test(origin))
        throw new HttpProblem(
          "malformed-request",
          sentMoreThanOnce(origin, (one) => ORIGIN.test(one), fieldCount(incomingOf(c), "webhook-request-origin"))
            ? `WebHook-Request-Origin was sent more than once (the origins arrive joined as ${JSON.stringify(origin.slice(0, 100))}): send one origin`
            : "WebHook-Request-Origin must be a DNS name (such as eventemitter.example.com), or *",
        );
      headers["webhook-allowed-origin"] = origin;
      headers["webhook-allowed-rate"] = "*";
    }
    return new Response(null, { status: 200, headers });
  });
  app.post("/v1/cloudevents", describe, auth("write:facts"), body, async (c) => {
    // The mode first, so that a body of the wrong kind is a 415 without being read.
    const contentType = c.req.header("content-type");
    const mode = modeOf(contentType);
    refuseIdempotencyKeyHeader(
      c.req.header("idempotency-key"),
      "an event's idempotency key is its source + id (a repeat of an event applies nothing)",
    );
    if (mode === "batch") refuseConditionalHeaders(c.req.header("if-match"), c.req.header("if-none-match"));
    const text = await bodyText(c);
    if (mode === "batch") {
      const results = await postBatch(governor, text, (e) => report(e, c.req.method, c.req.path));
      return c.json({ results });
    }
    // Node joins a header sent twice into one value (`a, b`): the attribute would be that.
    const incoming = incomingOf(c);
    const header = (name: string) => (fieldCount(incoming, name) > 1 ? REPEATED : c.req.header(name));
    const event = mode === "structured" ? structuredEvent(text) : binaryEvent(header, contentType!, text);
    // In binary mode `data` is the whole body, so a path into the facts is a path into the body.
    const dataPath = mode === "structured" ? "$.data" : "$";
    // If-Match and If-None-Match as on POST /v1/objects/{id}/facts (the subject is the object).
    const precondition = preconditionOf(c.req.header("if-match"), c.req.header("if-none-match"));
    const result = await inData(dataPath, () =>
      governor.postFacts(event.subject, event.data, eventKey(event), precondition),
    );
    const reply = factsResultReply(result, c.req.header("prefer"), requestSeesSecrets(c));
    return c.body(reply.body, 200, reply.headers);
  });
}

/** The route in the OpenAPI document (openapi.ts). */
const describe = operation({
  summary: "Send facts as CloudEvents 1.0: structured, binary or batch mode",
  description:
    "`subject` is the object id, `data` the facts (a JSON Merge Patch of its memory), and `source` + `id` " +
    "the idempotency key: a repeat applies nothing and answers with the first decision (Idempotent-Replayed). " +
    `Structured mode: the event as ${STRUCTURED_MEDIA_TYPE}. Batch mode: a JSON array of events as ` +
    `${BATCH_MEDIA_TYPE}; each is applied, or fails, on its own (its \`error\` at paths into the body: ` +
    "`$[2].data.a`). Binary mode: the data as application/json " +
    "(or any +json type), the attributes as ce-* headers (ce-specversion, ce-id, ce-source, ce-type, ce-subject). " +
    "An `Idempotency-Key` header is refused (422 at `$.headers.Idempotency-Key`, nothing applied).",
  tag: "facts",
  scope: "write:facts",
  headers: {
    Prefer: "return=minimal: reply with the decision summary only (structured and binary modes)",
    "ce-subject": "binary mode: the object id (ce-specversion, ce-id, ce-source and ce-type are required too)",
    "If-Match":
      "structured and binary modes: as on POST /v1/objects/{id}/facts (`*` holds; any other value is a 412); " +
      "refused in batch mode (422 at `$.headers.If-Match`, nothing applied)",
    "If-None-Match":
      "structured and binary modes: `*` (alone or among other members) is a 412 (the subject exists) or a 404; " +
      "entity tags alone are ignored; refused in batch mode (422 at `$.headers.If-None-Match`, nothing applied)",
  },
  body: {
    byMedia: {
      [STRUCTURED_MEDIA_TYPE]: cloudEventSchema,
      [BATCH_MEDIA_TYPE]: cloudEventBatchSchema,
      // Binary mode: the data is the facts, any JSON object (or any +json type).
      "application/json": z.record(z.string(), z.unknown()),
    },
  },
  replies: {
    200: {
      description: "The facts reply (`{decision}` alone with return=minimal); batch mode: one result per event",
      schema: z.union([factsReply, minimalFactsReply, cloudEventBatchReply]),
      headers: FACTS_REPLY_HEADERS,
    },
  },
  problems: {
    400: "the body is not JSON",
    404: "no such object",
    409: "this source + id was sent before with other data",
    412: "If-Match or If-None-Match does not hold (structured and binary modes): nothing applied",
    415: "not one of the three modes' content types, or a charset other than UTF-8",
    429: "too many requests wait for this object (VIGIL_MAILBOX_LIMIT); see Retry-After",
    503: OBJECT_POLICY_NOT_LOADED,
  },
});

/**
 * What the handshake accepts as a sender's origin: a DNS name (its labels may be `*`), with a
 * port or not, or `*`. It is echoed in a header, so nothing else gets through.
 */
const ORIGIN = /^(\*|[A-Za-z0-9*]([A-Za-z0-9*-]{0,62})(\.[A-Za-z0-9*]([A-Za-z0-9*-]{0,62}))*\.?)(:[0-9]{1,5})?$/;

/**
 * The abuse-protection handshake of CloudEvents' HTTP webhook spec (section 4), which Azure Event
 * Grid sends before it delivers: an OPTIONS with `WebHook-Request-Origin`, answered with consent
 * (`WebHook-Allowed-Origin`, `WebHook-Allowed-Rate: *`). It takes no token, since it gives nothing
 * away and changes nothing, and a sender may not send one with it; deliveries still need one.
 */
const describeHandshake = operation({
  summary: "CloudEvents webhook validation: consent to deliveries",
  description:
    "The abuse-protection handshake of the CloudEvents HTTP webhook spec (Azure Event Grid sends it). With " +
    "`WebHook-Request-Origin`, the reply consents: `WebHook-Allowed-Origin` echoes it and `WebHook-Allowed-Rate` is " +
    "`*`. `WebHook-Request-Callback` is not called: consent is given in the reply. No token is needed; deliveries " +
    "(POST) still need `write:facts`.",
  tag: "facts",
  scope: null,
  headers: {
    "WebHook-Request-Origin": "the sender's DNS name (such as eventemitter.example.com), or *",
    "WebHook-Request-Rate": "requests a minute the sender asks for (any: the reply allows *)",
  },
  replies: {
    200: {
      description: "Allowed (`Allow: OPTIONS, POST`); with WebHook-Request-Origin, consent to deliveries",
      headers: {
        Allow: { description: "OPTIONS, POST", schema: { type: "string" } },
        "WebHook-Allowed-Origin": { description: "the WebHook-Request-Origin asked with", schema: { type: "string" } },
        "WebHook-Allowed-Rate": { description: "`*`: no rate limit", schema: { type: "string" } },
      },
    },
  },
  problems: { 400: "WebHook-Request-Origin is not a DNS name or *" },
});

/**
 * The idempotency key of an event: the spec makes `source` + `id` unique per distinct event.
 * Hashed to fit IDEMPOTENCY_KEY_PATTERN (46 characters); the pair is encoded as a JSON array so
 * that no two pairs share an encoding (a `source` may hold any character in structured mode).
 */
export function eventKey(event: { source: string; id: string }): string {
  return (
    "ce:" +
    createHash("sha256")
      .update(JSON.stringify([event.source, event.id]))
      .digest("base64url")
  );
}

/** The content mode of a request, or a 415 naming the three this route reads. */
function modeOf(contentType: string | undefined): Mode {
  const mode = jsonModeOf(contentType);
  // A body declared in another encoding than UTF-8 is a 415 too, whatever its mode.
  utf8Charset(contentType!);
  return mode;
}

function jsonModeOf(contentType: string | undefined): Mode {
  const type = contentType === undefined ? undefined : mediaTypeOf(contentType);
  if (type === STRUCTURED_MEDIA_TYPE) return "structured";
  if (type === BATCH_MEDIA_TYPE) return "batch";
  // Another event format (`application/cloudevents+avro`...) is not JSON facts, whatever its suffix.
  if (type !== undefined && !type.startsWith("application/cloudevents") && isJsonMediaType(type)) return "binary";
  throw new HttpProblem(
    "unsupported-media-type",
    `send a CloudEvent as ${STRUCTURED_MEDIA_TYPE} (structured mode), a JSON array of them as ` +
      `${BATCH_MEDIA_TYPE} (batch mode), or its data as application/json with ce-* headers (binary mode)` +
      ` (got ${type === undefined ? "no content type" : `"${type}"`})`,
  );
}

/**
 * Binary mode: the attributes from their `ce-*` headers (a quoted-string unquoted, then
 * percent-decoded once, as the HTTP binding asks of a receiver), the body as `data`; problems
 * name the header (`$.headers.ce-subject`) or the path in the body.
 */
function binaryEvent(
  header: (name: string) => string | typeof REPEATED | undefined,
  contentType: string,
  text: string,
): CloudEvent {
  // No body is an event without data (CloudEvents allows it): the schema's 422 says it is needed.
  const candidate: Record<string, unknown> = text.trim() === "" ? {} : { data: parseJsonBody(contentType, text) };
  const problems: Problem[] = [];
  for (const name of BINARY_ATTRIBUTES) {
    const value = header(`ce-${name}`);
    if (value === undefined) continue;
    if (value === REPEATED) {
      problems.push({ path: headerPath(name), message: "sent more than once: an attribute has one value" });
      continue;
    }
    // Node reads a header's bytes as Latin-1: a UTF-8 "é" sent as is would be the id "Ã©", another
    // key than the same event sent structured. The binding has such characters percent-encoded.
    if (OUTSIDE_ASCII.test(value)) {
      problems.push({ path: headerPath(name), message: NOT_PERCENT_ENCODED });
      continue;
    }
    const unquoted = value.startsWith('"') ? unquote(value) : value;
    if (unquoted === undefined) {
      problems.push({ path: headerPath(name), message: "not a valid quoted-string (RFC 9110, section 5.6.4)" });
      continue;
    }
    try {
      candidate[name] = decodeURIComponent(unquoted);
    } catch {
      problems.push({ path: headerPath(name), message: "not valid percent-encoded UTF-8" });
    }
  }
  const r = cloudEventSchema.safeParse(candidate);
  if (!r.success)
    for (const p of zodProblems(r.error)) {
      const attribute = /^\$\.([a-z_0-9]+)/.exec(p.path)?.[1];
      if (attribute === "data") problems.push({ path: "$" + p.path.slice("$.data".length), message: p.message });
      else if (attribute !== undefined && !problems.some((q) => q.path === headerPath(attribute)))
        problems.push({ path: headerPath(attribute), message: p.message });
    }
  if (problems.length > 0 || !r.success) throw validationProblem("invalid CloudEvent", problems);
  return r.data;
}

const headerPath = (attribute: string) => `$.headers.ce-${attribute}`;

/** A byte of a header value past ASCII, as Node hands it over (a Latin-1 character). */
const OUTSIDE_ASCII = /[\u0080-\uffff]/;
const NOT_PERCENT_ENCODED =
  "holds bytes outside ASCII: percent-encode the value's UTF-8 (%C3%A9 for é), as the CloudEvents HTTP binding asks";

/** A header sent more than once. */
const REPEATED = Symbol("repeated");

/**
 * A header value written as an HTTP quoted-string (`"a \"b\""`), its content; undefined when it
 * is not one (no closing quote, a quote inside not escaped, a backslash at the end). A producer
 * sends one for a value with spaces or commas, as older versions of the binding had them.
 */
function unquote(value: string): string | undefined {
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < value.length - 1; i++) {
    const c = value[i]!;
    if (c === '"') return undefined;
    if (c === "\\") {
      if (i + 1 >= value.length - 1) return undefined;
      out += value[++i];
    } else out += c;
  }
  return out;
}

/**
 * Structured mode. The forbidden keys are looked for in `data` alone, before the schema (which
 * would drop an own `__proto__` key without a word): elsewhere they are extension attributes,
 * legal (CloudEvents names are [a-z0-9]+) and ignored.
 */
function structuredEvent(text: string): CloudEvent {
  const raw = parseJsonBody(STRUCTURED_MEDIA_TYPE, text, { keys: false });
  const keys = dataKeyProblems(raw);
  if (keys.length > 0) throw validationProblem("invalid CloudEvent", keys);
  return check(cloudEventSchema, raw, "CloudEvent");
}

/** The forbidden keys in an event's `data`, at their paths from the event (`$.data...`). */
function dataKeyProblems(event: unknown): Problem[] {
  if (event === null || typeof event !== "object" || !Object.hasOwn(event, "data")) return [];
  const data = (event as { data: unknown }).data;
  return prefixProblems(checkDocument(data, { maxDepth: MAX_BODY_DEPTH, maxProblems: 20 }), "$.data");
}

/** Batch mode: each event validated and applied on its own, the results in the events' order. */
async function postBatch(governor: GovernorApi, text: string, report: (e: unknown) => void) {
  const items = check(
    batchEnvelopeSchema,
    parseJsonBody(BATCH_MEDIA_TYPE, text, { keys: false }),
    "batch of CloudEvents",
  );
  const results: { objectId: string | null; decisionId?: string; outcome?: string; error?: ProblemBody }[] = [];
  const valid: { index: number; event: CloudEvent }[] = [];
  items.forEach((item, index) => {
    const keys = dataKeyProblems(item);
    const r = keys.length === 0 ? cloudEventSchema.safeParse(item) : null;
    if (r?.success) valid.push({ index, event: r.data });
    else {
      const subject = (item as { subject?: unknown } | null)?.subject;
      const errors = prefixProblems(r ? zodProblems(r.error) : keys, `$[${index}]`);
      results[index] = {
        objectId: typeof subject === "string" ? subject : null,
        error: problemBody("validation", "invalid CloudEvent", errors),
      };
    }
  });
  const done = await governor.postFactsBatch(
    valid.map(({ event }) => ({ objectId: event.subject, facts: event.data, idempotencyKey: eventKey(event) })),
  );
  done.forEach((r, k) => {
    const index = valid[k]!.index;
    results[index] = batchItemView(withDataPath(r, `$[${index}].data`), report);
  });
  return results;
}

/** Runs an arrival; its problems at `$.facts...` (the governor's words) are moved to `dataPath`. */
async function inData<T>(dataPath: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw rebased(e, dataPath);
  }
}

function withDataPath(r: BatchItemResult, dataPath: string): BatchItemResult {
  return "error" in r ? { objectId: r.objectId, error: rebased(r.error, dataPath) } : r;
}

function rebased(e: unknown, dataPath: string): unknown {
  // The key is derived from source + id: say so in the sender's terms, not the header's.
  if (e instanceof ReplayGone)
    return new VigilError(
      "conflict",
      `an event with this source and id was already received; its decision ${e.decisionId} is no longer kept (retention), so it cannot be answered again`,
    );
  if (e instanceof VigilError && e.kind === "conflict")
    return new VigilError(
      "conflict",
      "an event with this source and id was already received with other data; give new data a new id",
    );
  if (!(e instanceof VigilError) || e.problems.length === 0) return e;
  const problems = e.problems.map((p) =>
    p.path === "$.facts" || /^\$\.facts[.[]/.test(p.path)
      ? { path: dataPath + p.path.slice("$.facts".length), message: p.message }
      : p,
  );
  return new VigilError(e.kind, e.message, problems);
}
