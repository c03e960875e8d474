// Everything a route reads from a request, checked before any service sees it: path ids,
// query strings, headers and JSON bodies. Each failure is a problem with its own status:
// 415 (not JSON by content type, or sent with a content coding), 400 (not JSON by syntax), 422
// (JSON, but invalid).

import type { Context } from "hono";
import type { z } from "zod";
import { objectIdSchema } from "../contracts/http.ts";
import { zodProblems } from "../contracts/problems.ts";
import { utf8Text } from "../contracts/text.ts";
import { prefixProblems, type Precondition, type Problem } from "../core/errors.ts";
import { OBJECT_ID_PATTERN } from "../core/object.ts";
import { checkDocument, MAX_BODY_DEPTH } from "../core/memory-limits.ts";
import { HttpProblem, validationProblem } from "./problem.ts";
import { duplicateKeyProblems } from "../core/duplicate-keys.ts";
import { isPlainObject, parseJsonText } from "../core/json.ts";
import { formatPath } from "../core/paths.ts";
import { documentSizeIssues } from "../contracts/policy-budget.ts";

/** Media types accepted for JSON bodies (a `charset` parameter must name UTF-8: utf8Charset). */
export const JSON_MEDIA_TYPES = ["application/json", "application/merge-patch+json"];

/** Numbers past the double range a body may carry before it is refused whole (parseJsonBody). */
export const MAX_HUGE_NUMBERS = 20;

/** Validates with a zod schema; problem paths are rebased from `$` onto `root`. */
export function check<S extends z.ZodType>(schema: S, value: unknown, what: string, root = "$"): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw validationProblem(`invalid ${what}`, prefixProblems(zodProblems(r.error), root));
}

/** The `:id` path parameter as an object id (422 naming `$.id` otherwise). */
export function objectIdParam(c: Context | string): string {
  const id = typeof c === "string" ? c : c.req.param("id");
  // The schema's one rule, tested directly (every arrival passes here); zod words the refusal.
  if (typeof id === "string" && OBJECT_ID_PATTERN.test(id)) return id;
  return check(objectIdSchema, id, "object id", "$.id");
}

/** Problems a query string is refused with, at most. */
const MAX_QUERY_PROBLEMS = 20;

/**
 * The query string validated by `schema`; empty values (`?state=`) count as absent. A parameter
 * given twice is refused rather than read as its first value (`?state=active&state=dormant`
 * would list the active objects alone, and `?limit=5&limit=abc` pass). So is one the route does
 * not read: ignored, a misspelt name did something else than asked, silently (`DELETE
 * ...?compte=keep` stopped the compute it meant to keep; `?limt=5` listed 50).
 */
export function queryParams<S extends z.ZodObject>(c: Context, schema: S): z.output<S> {
  const raw: Record<string, string> = {};
  const refused: Problem[] = [];
  const known = Object.keys(schema.shape);
  for (const [k, vs] of Object.entries(c.req.queries())) {
    const given = vs.filter((v) => v !== "");
    if (given.length > 0 && !known.includes(k))
      refused.push({
        path: formatPath(["query", k]),
        message: `unknown parameter; this route reads ${known.join(", ")}`,
      });
    else if (given.length > 1)
      refused.push({ path: formatPath(["query", k]), message: `given ${given.length} times; give it once` });
    else if (given.length === 1) raw[k] = given[0]!;
  }
  // hono drops a parameter with an empty name (`?=5`); the raw URL still has it.
  if (namelessValues(c.req.url) > 0)
    refused.unshift({ path: '$.query[""]', message: `a parameter with no name; this route reads ${known.join(", ")}` });
  // The first few: a URL of thousands of unknown names is not answered with a problem for each.
  if (refused.length > 0) throw validationProblem("invalid query string", refused.slice(0, MAX_QUERY_PROBLEMS));
  return check(schema, raw, "query string", "$.query");
}

/**
 * Whether a header's value is one Node joined from several fields of that name (`a, b`: it joins
 * repeated headers with ", "): the refusal then says the header was sent more than once rather
 * than quoting the joined value as one that breaks the value's rule. `fields`: how many fields
 * carried it (fields.ts fieldCount). Two or more were sent more than once, whatever each held (an
 * empty one, a bad one); one field holding ", " was sent once, and is told the rule. 0 when that
 * is not known (a request not served by Node): then a value whose parts, split at ", ", are each
 * valid by `valid` where the whole is not is taken for one joined.
 */
export function sentMoreThanOnce(value: string, valid: (one: string) => boolean, fields: number): boolean {
  if (fields > 0) return fields > 1;
  const parts = value.split(", ");
  return parts.length > 1 && parts.every(valid);
}

/** How many parameters of `url`'s query string have an empty name and a value (`?=5`). */
function namelessValues(url: string): number {
  const q = url.indexOf("?");
  if (q < 0) return 0;
  const end = url.indexOf("#", q);
  const query = url.slice(q + 1, end < 0 ? undefined : end);
  return query.split("&").filter((p) => p.startsWith("=") && p.length > 1).length;
}

/**
 * The body as text, decoded as UTF-8 with at most one leading byte order mark taken off, as the
 * fast path reads it (the runtime's `Request.text()` in Node 20 takes off two). A content coding
 * is refused once the body is read, as there: past the body limit it is a 413 first.
 */
export async function bodyText(c: Context): Promise<string> {
  return decodeBody(Buffer.from(await c.req.arrayBuffer()), c.req.header("content-encoding"));
}

/**
 * A body's bytes as text: UTF-8 (RFC 8259), with at most one leading byte order mark taken off.
 * Bytes that are not UTF-8 are a 400: decoded leniently, they would become U+FFFD, so two
 * different bodies could read (and fingerprint) the same. `contentEncoding` is the request's
 * Content-Encoding header: anything but identity is a 415 (identityOnly).
 */
export function decodeBody(bytes: Buffer, contentEncoding?: string): string {
  if (contentEncoding !== undefined) identityOnly(contentEncoding);
  const text = utf8Text(bytes);
  if (text === null) throw new HttpProblem("malformed-request", "the request body is not valid UTF-8");
  return text;
}

/**
 * Reads a JSON body: content type, syntax, then the structural guard (depth, forbidden keys).
 * With `optional`, an empty body reads as `{}`.
 */
export async function readJson(
  c: Context,
  opts: { optional?: boolean; keys?: boolean; uniqueKeysIn?: string } = {},
): Promise<unknown> {
  const type = jsonMediaType(c.req.header("content-type"));
  return parseJsonBody(type, await bodyText(c), opts);
}

/** The media type of a Content-Type header; a 415 when it is not JSON (none at all is checked later). */
export function jsonMediaType(header: string | undefined): string | undefined {
  const type = header?.split(";")[0]!.trim().toLowerCase();
  if (type !== undefined && !JSON_MEDIA_TYPES.includes(type)) throw unsupported(type);
  if (header !== undefined) utf8Charset(header);
  return type;
}

/** The `charset` values that say the bytes are UTF-8 (US-ASCII is a part of it). */
const UTF8_CHARSETS = ["utf-8", "utf8", "us-ascii"];

/**
 * Refuses a Content-Type whose `charset` parameter names another encoding than UTF-8 with a 415
 * naming it. Bodies are read as UTF-8 whatever is declared (RFC 8259 8.1): `charset=iso-8859-1`
 * with the bytes C3 A9 was stored as "é" where its sender meant "Ã©", and a UTF-16 body was a 400
 * saying it is not valid JSON. No charset at all is UTF-8.
 */
export function utf8Charset(header: string): void {
  for (const param of mediaTypeParams(header)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const raw = param.slice(eq + 1).trim();
    const value = (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw).toLowerCase();
    if (!UTF8_CHARSETS.includes(value))
      throw new HttpProblem(
        "unsupported-media-type",
        `request bodies are read as UTF-8 only (RFC 8259); got charset ${JSON.stringify(raw.slice(0, 100))}: send the body in UTF-8, with charset=utf-8 or no charset`,
      );
  }
}

/**
 * The parameters of a Content-Type header (each `name=value`, untrimmed), split on the `;` that
 * are not inside a quoted string (RFC 9110 5.6.6): `foo="a;charset=latin1"` is one parameter. A
 * quoted string is a parameter's value: a `"` elsewhere (`a=b"c; charset=latin1`, in a token)
 * opens none, or it would hide the parameters after it.
 */
function mediaTypeParams(header: string): string[] {
  const params: string[] = [];
  let quoted = false;
  let start = -1;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i];
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"' && start >= 0 && header[i - 1] === "=") quoted = true;
    else if (ch === ";") {
      if (start >= 0) params.push(header.slice(start, i));
      start = i + 1;
    }
  }
  if (start >= 0) params.push(header.slice(start));
  return params;
}

/**
 * A request body's text as JSON (see readJson), its media type already checked. `keys: false`
 * leaves the forbidden keys to a check of each item (a batch, where one item's patch fails
 * alone); the depth guard always covers the whole body. `uniqueKeysIn` (a path: `$`, `$.policy`)
 * refuses a key written twice in one object of the authored document (a policy) a body carries
 * there, as its file would be; the rest of the body is read as JSON reads it (the last wins).
 */
export function parseJsonBody(
  type: string | undefined,
  text: string,
  opts: { optional?: boolean; keys?: boolean; uniqueKeysIn?: string } = {},
): unknown {
  if (text.trim() === "") {
    if (opts.optional) return {};
    throw new HttpProblem("malformed-request", "the request body is empty; this route needs a JSON body");
  }
  if (type === undefined) throw unsupported(undefined);
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new HttpProblem("malformed-request", `the request body is ${parsed.problem.message}`);
  const value = parsed.value;
  if (opts.uniqueKeysIn !== undefined) refuseOversizePolicy(value, opts.uniqueKeysIn);
  // Before any schema: zod's record parsing silently drops an own `__proto__` key.
  const problems = checkDocument(value, { maxDepth: MAX_BODY_DEPTH, maxProblems: 20, keys: opts.keys ?? true });
  if (problems.length > 0) throw validationProblem("the request body is not acceptable", problems);
  // Numbers past the double range (1e999, read as Infinity): a few are left to the route, which
  // says for each whether a number is taken there at all. Many are refused here, the first few
  // named: zod's JSON schema refuses each with an error of every branch it tried, about 15 µs
  // apiece, so a 1 MiB body of them held the event loop for seconds (`POST .../evaluate`, open
  // to a `read` token).
  const huge = checkDocument(value, {
    maxDepth: MAX_BODY_DEPTH,
    maxProblems: MAX_HUGE_NUMBERS + 1,
    keys: false,
    numbers: "finite",
  });
  if (huge.length > MAX_HUGE_NUMBERS)
    throw validationProblem("the request body is not acceptable", huge.slice(0, MAX_HUGE_NUMBERS));
  const within = opts.uniqueKeysIn;
  const repeated =
    within === undefined
      ? []
      : duplicateKeyProblems(text).filter(
          (p) =>
            within === "$" || p.path === within || p.path.startsWith(`${within}.`) || p.path.startsWith(`${within}[`),
        );
  if (repeated.length > 0) throw validationProblem("the request body writes a key twice in one object", repeated);
  return value;
}

/**
 * A policy document (at `within`: `$`, `$.policy`) over its size, MAX_POLICY_CHARS, is refused
 * first, as validation would refuse it at last: the walks of parseJsonBody (two of the whole
 * body, and a scan of its text for keys written twice) took a 1 MiB candidate, sent by any
 * `read` token, 0.15-0.3 s of the event loop before it was refused for its size. The problem is
 * the one validation gives (`the policy is invalid` for a body that is the policy).
 */
function refuseOversizePolicy(value: unknown, within: string): void {
  let doc: unknown = value;
  for (const key of within.split(".").slice(1)) doc = isPlainObject(doc) ? doc[key] : undefined;
  const issues = documentSizeIssues(doc);
  if (issues.length > 0)
    throw validationProblem(
      within === "$" ? "the policy is invalid" : "the candidate policy is invalid",
      issues.map((i) => ({ path: within + formatPath(i.path).slice(1), message: i.message })),
    );
}

/**
 * Refuses a Content-Encoding other than identity with a 415 and `Accept-Encoding: identity`
 * (RFC 9110 8.4, 12.5.3). No coding is undone here: a gzip body was read as text and refused as
 * "not valid UTF-8", and a plain body declared `br` was applied as if it were not declared.
 */
function identityOnly(contentEncoding: string): void {
  for (const coding of contentEncoding.split(",")) {
    const name = coding.trim().toLowerCase();
    if (name !== "" && name !== "identity")
      throw new HttpProblem(
        "unsupported-media-type",
        `request bodies are accepted only as sent, with no content coding (Content-Encoding: identity); got ${JSON.stringify(contentEncoding.slice(0, 100))}`,
        undefined,
        { "accept-encoding": "identity" },
      );
  }
}

const unsupported = (type: string | undefined) =>
  new HttpProblem(
    "unsupported-media-type",
    `send the body as ${JSON_MEDIA_TYPES.join(" or ")} (got ${type === undefined ? "no content type" : `"${type}"`})`,
  );

/**
 * What If-Match and If-None-Match ask of an object (RFC 9110 13.1.1-2). Objects carry no entity
 * tags, so `*` is the only one that can match: an If-Match listing tags never holds, and an
 * If-None-Match listing tags always does (it is ignored). Either read the safe way when `*` comes
 * with other members, which no grammar allows but which a header sent twice makes (Node joins
 * two `If-None-Match: *` lines as `*, *`): an If-Match is then one that never holds, and an
 * If-None-Match one that asks for no object (ignored as tags, a create-only PUT overwrote).
 */
export function preconditionOf(ifMatch: string | undefined, ifNoneMatch: string | undefined): Precondition | undefined {
  const star = (v: string | undefined) => v !== undefined && v.trim() === "*";
  if (ifMatch !== undefined) return star(ifMatch) && !hasStar(ifNoneMatch) ? "exists" : "never";
  return hasStar(ifNoneMatch) ? "absent" : undefined;
}

/** Whether `*` is among a conditional header's members (entity tags, whose quotes may hold `,` and `*`, passed over). */
function hasStar(value: string | undefined): boolean {
  return value !== undefined && (value.match(/(?:W\/)?"[^"]*"|[^,\s]+/g) ?? []).some((member) => member === "*");
}
