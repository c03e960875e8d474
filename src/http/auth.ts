// Bearer tokens with scopes, from configuration (`VIGIL_TOKENS`).
//
// Format: entries separated by commas (or whitespace/newlines), each `name:token:scopes`
// where scopes are joined by `+`, e.g.
//   VIGIL_TOKENS="ingest:4f9c2d7e1a0b3c5d:write:facts,ops:9e8d7c6b5a493827:read+write:objects"
// The name is what logs and 403s show (never the token); it is 1-64 characters of
// `A-Z a-z 0-9 . _ -`. Tokens are at least 16 characters of RFC 6750's b64token alphabet
// (`A-Z a-z 0-9 - . _ ~ + /`, then `=` padding) and contain no `:`. `admin` implies every
// scope. An empty list turns auth off; main.ts then binds loopback only.

import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { fieldCount, incomingOf } from "./fields.ts";
import { problemResponse, type ProblemSlug } from "./problem.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The scopes of the request's token, set by the auth middleware (every scope when auth is off). */
    scopes: Grant;
  }
}

export const SCOPES = ["read", "write:facts", "write:objects", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** One configured token. */
export interface TokenConfig {
  token: string;
  scopes: Scope[];
  name?: string;
}

export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Parses `VIGIL_TOKENS`. Throws an Error naming the entry (by position and name, never by its
 * token) when anything is malformed; an empty or blank text means no tokens.
 */
export function parseTokens(text: string): TokenConfig[] {
  const out: TokenConfig[] = [];
  const entries = text.split(/[,\s]+/).filter((e) => e !== "");
  entries.forEach((entry, i) => {
    const first = entry.indexOf(":");
    const second = first < 0 ? -1 : entry.indexOf(":", first + 1);
    const name = first < 0 ? entry : entry.slice(0, first);
    const token = first < 0 ? "" : entry.slice(first + 1, second < 0 ? undefined : second);
    // The name is quoted only where a token follows it: in an entry that lacks its name (a
    // token alone, `<token>:admin`, `<token>:write:facts`) the text before the first colon is
    // the token, and the message is logged.
    const named = NAME.test(name) && TOKEN.test(token) && token.length >= MIN_TOKEN_LENGTH;
    const where = `VIGIL_TOKENS entry ${i + 1}` + (named ? ` ("${name}")` : "");
    if (second < 0) throw new Error(`${where}: expected name:token:scope[+scope...], e.g. ingest:<token>:write:facts`);
    const scopes = entry.slice(second + 1).split("+");
    if (!NAME.test(name)) throw new Error(`${where}: the name must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    if (!TOKEN.test(token))
      throw new Error(`${where}: the token may use only A-Z a-z 0-9 - . _ ~ + / (then = padding)`);
    if (token.length < MIN_TOKEN_LENGTH)
      throw new Error(
        `${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 32)`,
      );
    for (const s of scopes) if (!isScope(s)) throw new Error(`${where}: ${unknownScope(entry.slice(second + 1), s)}`);
    if (out.some((t) => t.name === name)) throw new Error(`${where}: the name "${name}" is used twice`);
    if (out.some((t) => t.token === token)) throw new Error(`${where}: the same token is configured twice`);
    out.push({ name, token, scopes: [...new Set(scopes)] as Scope[] });
  });
  return out;
}

const isScope = (s: string) => (SCOPES as readonly string[]).includes(s);
/** The words scopes are made of (`write` and `facts` of `write:facts`). */
const SCOPE_WORDS = new Set(SCOPES.flatMap((s) => s.split(":")));
/** Text before a `:` that a scope could have there: scope words joined with `+` or `:` (`read`, `write`). */
const scopeWords = (text: string) => text.split(/[+:]/).every((w) => SCOPE_WORDS.has(w));

/**
 * Why `text`, what follows an entry's token, is not a list of scopes (`scope` the first that is
 * not one). A token holds no `:`; in one that did (`ops:abc:def:admin`), the part after its `:` is
 * read as a scope, and quoting it would log half the token: it is quoted only when it is made of
 * the words scopes are made of.
 */
function unknownScope(text: string, scope: string): string {
  const known = `scopes are ${SCOPES.join(", ")}, joined with +`;
  for (let i = text.indexOf(":"); i >= 0; i = text.indexOf(":", i + 1)) {
    const [before, after] = [text.slice(0, i), text.slice(i + 1)];
    if (!scopeWords(before) && after.split("+").every(isScope))
      return `the token holds a ":", which a token may not (the part after it is not shown); ${known}`;
  }
  // Only what is made of scopes' own words is quoted (`write`, `read:admin`, an empty one): any
  // other text may be a token's end (`QmZx`, `QmZx:read`), and a misspelt scope is not told from one.
  if (scope === "" || scopeWords(scope)) return `unknown scope "${scope}"; ${known}`;
  return `an unknown scope, not shown (it may be part of a token: a token holds no ":"); ${known}`;
}

/** True when a token holding `scopes` may act with `scope` (admin implies all). */
export function grants(scopes: readonly Scope[], scope: Scope): boolean {
  return scopes.includes("admin") || scopes.includes(scope);
}

/** What a request let through may do: its token's scopes, or every scope when no tokens are configured. */
export type Grant = readonly Scope[];

/** Every scope: what a request holds when no tokens are configured (loopback development). */
const OPEN: Grant = SCOPES;

export function isDenial(r: Denial | Grant): r is Denial {
  return !Array.isArray(r);
}

/**
 * Whether a request holding `grant` sees secrets: the values of a substrate config's `env`.
 * Those who may bind objects (`write:objects`, `admin`) set them, and may read them back.
 */
export function seesSecrets(grant: Grant | undefined): boolean {
  return grant !== undefined && grants(grant, "write:objects");
}

/** {@link seesSecrets} for a hono request that went through the auth middleware. */
export function requestSeesSecrets(c: Context): boolean {
  return seesSecrets(c.get("scopes") as Grant | undefined);
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
const CHALLENGE = 'Bearer realm="vigil"';

/**
 * Returns a factory of per-route middleware: `auth("read")` lets a request through when its
 * bearer token holds `read` (or admin). Missing or unknown token: 401 with
 * `WWW-Authenticate` (`error="invalid_request"` for a Bearer credential not well formed); two
 * credentials (RFC 9110 allows one): 400; known token without the scope: 403. Tokens are compared as sha256
 * digests with timingSafeEqual, against every configured token (no early exit), so the
 * reply time does not depend on how much of a token was right.
 */
export function authenticator(tokens: readonly TokenConfig[]): (scope: Scope) => MiddlewareHandler {
  if (tokens.length === 0) {
    const open: MiddlewareHandler = async (c, next) => {
      c.set("scopes", OPEN);
      await next();
    };
    return () => open;
  }
  const authorize = authorizer(tokens);
  return (scope) => async (c, next) => {
    // Node's request, when served by Node (c.env of @hono/node-server); not in app.request(). Its
    // Authorization fields are counted there: an empty one sent beside one with a token is a field
    // sent twice all the same, which hono's adapter joins (`Bearer X, `) into what read as one.
    const incoming = incomingOf(c);
    const r = authorize(c.req.header("authorization"), scope, fieldCount(incoming, "authorization"));
    if (isDenial(r)) return problemResponse(r.slug, r.detail, undefined, r.headers);
    c.set("scopes", r);
    await next();
  };
}

/** Why a request may not go on: the problem to answer with, and its WWW-Authenticate. */
export interface Denial {
  slug: ProblemSlug;
  detail: string;
  headers: Record<string, string>;
}

/** The members of a comma-separated header, a quoted string kept whole (it may hold commas). */
const MEMBER = /(?:[^,"]|"(?:[^"\\]|\\.)*"?)+/g;
/**
 * A member that goes on the credential before it: an auth-param (`realm="x"`, `Signature=abc`,
 * RFC 9110 11.2), a name and `=` followed by its value. A credential of its own starts with its
 * scheme and a space (`Bearer X`), or is a token alone.
 */
const AUTH_PARAM = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*=[ \t]*[^=\s]/;

/**
 * How many credentials an Authorization value holds: its members, but for the auth-params that
 * go on the one before them. One credential of another scheme with its parameters (Digest's
 * `username="a", realm="b"`, AWS's `Credential=..., Signature=...`) is one, not two: the 401
 * with the Bearer challenge is what tells its client which scheme to use.
 */
function credentialCount(header: string): number {
  const members = (header.match(MEMBER) ?? []).map((m) => m.trim()).filter((m) => m !== "");
  return members.filter((m, i) => i === 0 || !AUTH_PARAM.test(m)).length;
}

/**
 * The check behind the middleware, as a plain function (the hot route's fast path uses it
 * too): the token's scopes when the Authorization header's token holds `scope` (every scope
 * when no tokens are configured), or why not.
 */
export function authorizer(
  tokens: readonly TokenConfig[],
): (header: string | undefined, scope: Scope, fields?: number) => Denial | Grant {
  if (tokens.length === 0) return () => OPEN;
  const known = tokens.map((t) => ({ digest: digest(t.token), scopes: t.scopes, name: t.name }));
  const identify = (header: string | undefined, fields: number) => {
    // No token holds a comma: one between two credentials is two Authorization fields (hono's
    // adapter joins them with ", ") or one field holding two, which RFC 9110 does not allow.
    if (fields > 1 || (header !== undefined && credentialCount(header) > 1)) return "two" as const;
    const m = header === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(header);
    if (!m) {
      // A Bearer credential not as RFC 6750 writes one (`Bearer <token> extra`, a tab after
      // `Bearer`): a token was sent, and "this route needs a bearer token" sent its client
      // looking for the wrong fault.
      if (header !== undefined && /^Bearer\s+\S/i.test(header)) return "malformed" as const;
      return header !== undefined && header.trim() !== "" && !/^Bearer\s*$/i.test(header)
        ? ("other" as const)
        : ("missing" as const);
    }
    const given = digest(m[1]!);
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, given)) match = k;
    return match ?? ("invalid" as const);
  };
  return (header, scope, fields = 1) => {
    const who = identify(header, fields);
    if (who === "two")
      return {
        slug: "malformed-request",
        detail:
          "the request carries two credentials (Authorization sent twice, or one holding two): send one, Authorization: Bearer <token>",
        headers: { "www-authenticate": `${CHALLENGE}, error="invalid_request"` },
      };
    // A 401 all the same, not RFC 6750's 400: the dashboard and the CLI ask for the token again
    // on a 401, and a token pasted with a word too is the token's fault.
    if (who === "malformed")
      return {
        slug: "unauthorized",
        detail:
          "the Authorization header is not a well-formed bearer credential: send Authorization: Bearer <token> (the scheme, one space, then the token alone)",
        headers: { "www-authenticate": `${CHALLENGE}, error="invalid_request"` },
      };
    if (who === "other")
      return {
        slug: "unauthorized",
        detail:
          "this route needs a bearer token (Authorization: Bearer <token>); the Authorization header sent is not one",
        headers: { "www-authenticate": CHALLENGE },
      };
    if (who === "missing")
      return {
        slug: "unauthorized",
        detail: "this route needs a bearer token (Authorization: Bearer <token>)",
        headers: { "www-authenticate": CHALLENGE },
      };
    if (who === "invalid")
      return {
        slug: "unauthorized",
        detail: "the bearer token is not valid",
        headers: { "www-authenticate": `${CHALLENGE}, error="invalid_token"` },
      };
    if (!grants(who.scopes, scope))
      return {
        slug: "forbidden",
        detail: `the token${who.name ? ` "${who.name}"` : ""} lacks the scope "${scope}" this route needs`,
        headers: { "www-authenticate": `${CHALLENGE}, error="insufficient_scope", scope="${scope}"` },
      };
    return who.scopes;
  };
}
