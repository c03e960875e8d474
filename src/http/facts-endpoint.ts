// POST /v1/objects/{id}/facts once the request is authorized and its body read: the one
// implementation behind both the hono route and the server's fast path for it (fast-path.ts).
// Input: the path's id, the headers that matter and the body text; output: the reply to send.

import { factsBodySchema, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from "../contracts/http.ts";
import { checkPrecondition, notFound } from "../core/errors.ts";
import { isPlainObject } from "../core/json.ts";
import { checkAddressableObjectId } from "../core/object.ts";
import type { JsonObject } from "../core/types.ts";
import type { FactsResult, GovernorApi } from "../governor/services.ts";
import { validationProblem } from "./problem.ts";
import { check, jsonMediaType, objectIdParam, parseJsonBody, preconditionOf, sentMoreThanOnce } from "./validation.ts";
import { factsView, minimalDecisionView } from "./views.ts";

export interface FactsRequest {
  id: string;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  /**
   * How many Idempotency-Key fields the request carried (fields.ts fieldCount; 0 when that is not
   * known, a request not served by Node): a value joined from two reads as one holding ", ".
   */
  idempotencyKeyFields: number;
  /** The conditional request headers, read as PUT and DELETE read them (preconditionOf). */
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  prefer: string | undefined;
  /** Reads the body once the headers passed (a 415 is answered without reading it). */
  body: () => Promise<string>;
  /** Whether the reply shows the values of the object's config `env` (auth.ts `seesSecrets`). */
  secrets: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Runs the route; throws HttpProblem or VigilError for the one error map to answer. */
export async function postFacts(governor: GovernorApi, req: FactsRequest): Promise<Reply> {
  const id = objectIdParam(req.id);
  const key = idempotencyKey(req.idempotencyKey, req.idempotencyKeyFields);
  const type = jsonMediaType(req.contentType);
  const precondition = preconditionOf(req.ifMatch, req.ifNoneMatch);
  // One that cannot hold fails before the body is read, as on PUT (RFC 9110 13.2.1: preconditions
  // are judged before the content), and after the 404 a missing object gets, as in its turn.
  if (precondition === "never") {
    checkAddressableObjectId(id);
    if ((await governor.getObject(id)) === null) throw notFound(`object "${id}"`);
    checkPrecondition(precondition, id, true);
  }
  const facts = factsOf(parseJsonBody(type, await req.body()));
  return factsResultReply(await governor.postFacts(id, facts, key, precondition), req.prefer, req.secrets);
}

/** The reply to an arrival of facts (POST /v1/cloudevents answers with it too). */
export function factsResultReply(result: FactsResult, prefer: string | undefined, secrets: boolean): Reply {
  const headers: Record<string, string> = { "content-type": "application/json" };
  // A replay applied nothing: it answers with the same decision, and the header tells.
  if (result.replayed) headers["idempotent-replayed"] = "true";
  if (prefersMinimal(prefer)) {
    headers["preference-applied"] = "return=minimal";
    return { status: 200, headers, body: JSON.stringify({ decision: minimalDecisionView(result.decision) }) };
  }
  return { status: 200, headers, body: JSON.stringify(factsView(result, secrets)) };
}

/** `{facts: {...}}` and nothing else, checked without zod; zod words what is wrong otherwise. */
function factsOf(body: unknown): JsonObject {
  if (isPlainObject(body) && isPlainObject(body.facts)) {
    let keys = 0;
    for (const _ in body) keys++;
    if (keys === 1) return body.facts;
  }
  return check(factsBodySchema, body, "facts").facts;
}

/**
 * The Idempotency-Key header's key, checked; `fields`, how many fields carried it (0: not known).
 * Node joins a header sent twice as `k1, k2`, refused for its space: when each part is a key the
 * rule takes, it was sent more than once, which the 422 says. A key sent once holding ", " is
 * told the rule: it was not sent twice.
 */
export function idempotencyKey(key: string | undefined, fields: number): string | undefined {
  if (key === undefined || IDEMPOTENCY_KEY_PATTERN.test(key)) return key;
  const message = sentMoreThanOnce(key, (k) => IDEMPOTENCY_KEY_PATTERN.test(k), fields)
    ? `sent more than once (the keys arrive joined as ${JSON.stringify(key.slice(0, 100))}): send one key`
    : IDEMPOTENCY_KEY_RULE;
  throw validationProblem("invalid Idempotency-Key header", [{ path: "$.headers.Idempotency-Key", message }]);
}

/**
 * A route whose keys travel with each item (POST /v1/facts: `items[].idempotencyKey`; POST
 * /v1/cloudevents: each event's `source` + `id`) refuses the header, nothing applied: ignored,
 * a client retrying a whole batch under one header key would apply every item again.
 */
export function refuseIdempotencyKeyHeader(key: string | undefined, where: string): void {
  if (key === undefined) return;
  throw validationProblem("this route takes no Idempotency-Key header", [
    { path: "$.headers.Idempotency-Key", message: `not read here: ${where}` },
  ]);
}

/**
 * A batch (POST /v1/facts, CloudEvents' batch mode) refuses `If-Match` and `If-None-Match`,
 * nothing applied: the items name many objects, and a condition in a header names none of them
 * (ignored, `If-None-Match: *` sent to create-or-fail would have applied every item).
 */
export function refuseConditionalHeaders(ifMatch: string | undefined, ifNoneMatch: string | undefined): void {
  const errors = [];
  if (ifMatch !== undefined) errors.push({ path: "$.headers.If-Match", message: BATCH_CONDITIONS });
  if (ifNoneMatch !== undefined) errors.push({ path: "$.headers.If-None-Match", message: BATCH_CONDITIONS });
  if (errors.length > 0) throw validationProblem("a batch takes no If-Match or If-None-Match header", errors);
}

const BATCH_CONDITIONS =
  "not read here: a batch names many objects; send a condition with one object's facts (POST /v1/objects/{id}/facts)";

/**
 * RFC 7240: whether the first `return` among the preferences (comma-separated, any case) is
 * `return=minimal`. A preference given more than once counts at its first instance only (section
 * 2), so `return=representation, return=minimal` is the full reply; and a comma or semicolon
 * inside a quoted-string belongs to that value (`foo="a,return=minimal"` asks for no `return`).
 */
export function prefersMinimal(prefer: string | undefined): boolean {
  if (prefer === undefined) return false;
  for (const preference of unquotedSplit(prefer, ",")) {
    const m = PREFERENCE.exec(unquotedSplit(preference, ";")[0]!.trim());
    if (m?.[1]!.toLowerCase() === "return") return MINIMAL.test(m[2] ?? "");
  }
  return false;
}

/** A preference (trimmed): its name and, after `=` with optional whitespace around it, its value as written. */
const PREFERENCE = /^([^\s=]+)\s*(?:=\s*([^]*))?$/;
/** `minimal` or `"minimal"`, any case. */
const MINIMAL = /^(?:minimal|"minimal")$/i;

/** `text` split at each `separator` outside a quoted-string (RFC 9110 5.6.4, `\` escaping one character). */
function unquotedSplit(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
