// The server's fast path for its hottest routes, POST /v1/objects/{id}/facts and
// PUT /v1/objects/{id}: answered straight from Node's request and response objects, without
// building a web Request, a body stream and a Response for each call (a profile put those at
// about an eighth of an arrival's CPU, and a sixth of a creation's). It runs the same checks as
// the hono app, in the same order, through the same functions: loopback hosts or bearer tokens,
// the body limit, then the endpoint (facts-endpoint.ts, routes/objects.ts) and the one error
// map. Anything out of the ordinary (another route, an odd URL or Host) goes to hono.

import type { IncomingMessage, ServerResponse } from "node:http";
import { fieldCount } from "./fields.ts";
import type { GovernorApi, PoliciesApi } from "../governor/services.ts";
import { authorizer, isDenial, seesSecrets, type TokenConfig } from "./auth.ts";
import { postFacts, type Reply } from "./facts-endpoint.ts";
import { notLoopback } from "./loopback.ts";
import { problemBody, problemHeaders, problemOf, PROBLEM_CONTENT_TYPE } from "./problem.ts";
import { hostProblem, refuse } from "./node-server.ts";
import { decodeBody } from "./validation.ts";
import { discardBody } from "./discard-body.ts";
import { putObjectEndpoint } from "./routes/objects.ts";

const FACTS = /^\/v1\/objects\/([A-Za-z0-9._:-]{1,128})\/facts(?:\?.*)?$/;
const OBJECT = /^\/v1\/objects\/([A-Za-z0-9._:-]{1,128})(?:\?.*)?$/;
/** A Host header the way hono's adapter takes it as it is (lowercase name, optional port). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$/;

export interface FastPathDeps {
  governor: GovernorApi;
  tokens: TokenConfig[];
  bodyLimitBytes: number;
  report: (error: unknown, method: string, path: string) => void;
  /**
   * The policy registry: with it, PUT /v1/objects/{id} is answered here too (an Object names
   * the version of its policy loaded now); without it, PUT goes to hono.
   */
  policies?: PoliciesApi;
}

/**
 * A request listener that answers what it can and returns false for the rest. (No closure is
 * made per request: tsx names every one it compiles, which costs more than the rest of this.)
 */
export function factsFastPath(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const authorize = authorizer(deps.tokens);
  const open = deps.tokens.length === 0;
  const { policies } = deps;
  /** The last Host found to be a loopback name (clients keep sending the same one). */
  let loopbackHost: string | undefined;
  return (req, res) => {
    const put = req.method === "PUT";
    if (!(put ? policies : req.method === "POST")) return false;
    const m = (put ? OBJECT : FACTS).exec(req.url ?? "");
    const host = req.headers.host;
    if (!m || host === undefined || !PLAIN_HOST.test(host) || !plain(req, m[1]!, host)) return false;
    const origin = req.headers.origin;
    // Without tokens everything is visible (loopback development).
    let secrets = true;
    if (open) {
      if (host !== loopbackHost || origin !== undefined) {
        const refused = notLoopback([host], origin, fieldCount(req, "origin"));
        if (refused) return refuse(req, res, "forbidden", refused, {});
        if (origin === undefined) loopbackHost = host;
      }
    } else {
      const r = authorize(req.headers.authorization, put ? "write:objects" : "write:facts");
      if (isDenial(r)) return refuse(req, res, r.slug, r.detail, r.headers);
      secrets = seesSecrets(r);
    }
    void answer(deps, req, res, put, m[1]!, secrets);
    return true;
  };
}

/**
 * What hono's adapter would read another way is left to it: an id of `.` or `..` (a dot segment,
 * which the URL it builds removes), and a header sent twice (Node keeps the first Host,
 * Authorization or Content-Type; the adapter joins them). So is a Host no URL takes as written
 * (`1.2.3.4.5`, a port past 65535, `xn--a`, `0x7f.1`): `node-server.ts` answers it with a 400.
 */
function plain(req: IncomingMessage, id: string, host: string): boolean {
  if (id === "." || id === "..") return false;
  if (hostProblem(host) !== null) return false;
  let names = 0;
  for (const _ in req.headers) names++;
  return req.rawHeaders.length === 2 * names;
}

/** Answers a request that passed the gate; every failure goes through the one error map. */
async function answer(
  deps: FastPathDeps,
  req: IncomingMessage,
  res: ServerResponse,
  put: boolean,
  id: string,
  secrets: boolean,
): Promise<void> {
  let reply: Reply;
  try {
    // As hono's body limit runs before the route: a body over the limit by its Content-Length is
    // a 413 whatever else is wrong with the request (readBody refuses it before reading), and one
    // sent chunked is read whole first (and a 413 past the limit). One within the limit by its
    // Content-Length is read only when the endpoint asks for it, after its checks of the id and
    // the headers, as on hono's routes: a client waiting for `100 Continue` is not invited to
    // send a body that is then refused for its content type or Idempotency-Key.
    const limit = deps.bodyLimitBytes;
    const encoding = header(req, "content-encoding");
    const body =
      req.headers["transfer-encoding"] === undefined && !(Number(req.headers["content-length"]) > limit)
        ? readDecoded.bind(null, req, limit, encoding)
        : decoded.bind(null, await readBody(req, limit), encoding);
    const contentType = header(req, "content-type");
    if (put)
      reply = await putObjectEndpoint(deps.governor, deps.policies!, {
        id,
        contentType,
        ifMatch: header(req, "if-match"),
        ifNoneMatch: header(req, "if-none-match"),
        body,
      });
    else {
      const facts = {
        id,
        contentType,
        idempotencyKey: header(req, "idempotency-key"),
        // A request the fast path takes carries each field once (plain).
        idempotencyKeyFields: req.headers["idempotency-key"] === undefined ? 0 : 1,
        ifMatch: header(req, "if-match"),
        ifNoneMatch: header(req, "if-none-match"),
        prefer: header(req, "prefer"),
        body,
        // Whether the reply shows the values of the object's config `env` (auth.ts seesSecrets).
        secrets,
      };
      reply = await postFacts(deps.governor, facts);
    }
  } catch (e) {
    const path = req.url!.split("?")[0]!;
    // A 413 keeps the connection as hono's does: discardBody below lets the rest of the body go
    // within its bound and ends the connection past it (a `connection: close` reply here made Node
    // drop what was pipelined behind it, which hono serves).
    const headers = e instanceof TooLarge ? {} : problemHeaders(e);
    const body =
      e instanceof TooLarge
        ? problemBody("too-large", e.message)
        : problemOf(e, (x) => deps.report(x, put ? "PUT" : "POST", path));
    reply = problemReply(body, headers);
  }
  send(res, reply);
  // What a failure left unread of the body (past the limit: a 413) is let go, within bounds.
  discardBody(req, res);
}

/**
 * A body already read, decoded when an endpoint asks for it (after its content type is checked,
 * as hono's routes do; bound per request: `bind` names nothing). A Content-Encoding other than
 * identity is a 415 there, as on hono's routes.
 */
async function decoded(bytes: Buffer, contentEncoding: string | undefined): Promise<string> {
  return decodeBody(bytes, contentEncoding);
}

/** The body read when the endpoint asks for it (its Content-Length within the limit), then decoded. */
async function readDecoded(req: IncomingMessage, limit: number, contentEncoding: string | undefined): Promise<string> {
  return decodeBody(await readBody(req, limit), contentEncoding);
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, "content-length": Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function problemReply(body: ReturnType<typeof problemBody>, headers: Record<string, string>): Reply {
  return {
    status: body.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
    body: JSON.stringify(body),
  };
}

/** A header hono would read: one value (a header sent twice never gets here, see `plain`). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

class TooLarge extends Error {}

/** The body's bytes, refused (413) past `limit` bytes, by Content-Length or as it comes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  const message = `request bodies are limited to ${limit} bytes`;
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new TooLarge(message));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        reject(new TooLarge(message));
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
