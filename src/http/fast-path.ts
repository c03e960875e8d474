// The server's fast path for its hottest route, POST /v1/objects/{id}/facts: answered straight
// from Node's request and response objects, without building a web Request, a body stream and a
// Response for each call (a profile put those at about an eighth of an arrival's CPU). It runs
// the same checks as the hono app, in the same order, through the same functions: loopback
// hosts or bearer tokens, the body limit, then the facts endpoint (facts-endpoint.ts) and the
// one error map. Anything out of the ordinary (another route, an odd URL or Host) goes to hono.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { GovernorApi } from "../governor/services.ts";
import { authorizer, type TokenConfig } from "./auth.ts";
import { postFacts, type Reply } from "./facts-endpoint.ts";
import { notLoopback } from "./loopback.ts";
import { problemBody, problemOf, PROBLEM_CONTENT_TYPE, type ProblemSlug } from "./problem.ts";

const FACTS = /^\/v1\/objects\/([A-Za-z0-9._:-]{1,128})\/facts(?:\?.*)?$/;
/** A Host header the way hono's adapter takes it as it is (lowercase name, optional port). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$/;

export interface FastPathDeps {
  governor: GovernorApi;
  tokens: TokenConfig[];
  bodyLimitBytes: number;
  report: (error: unknown, method: string, path: string) => void;
}

/** A request listener that answers what it can and returns false for the rest. */
export function factsFastPath(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const authorize = authorizer(deps.tokens);
  const open = deps.tokens.length === 0;
  return (req, res) => {
    if (req.method !== "POST") return false;
    const m = FACTS.exec(req.url ?? "");
    const host = req.headers.host;
    if (!m || host === undefined || !PLAIN_HOST.test(host)) return false;
    const send = (reply: Reply) => {
      res.writeHead(reply.status, { ...reply.headers, "content-length": Buffer.byteLength(reply.body) });
      res.end(reply.body);
    };
    const problem = (slug: ProblemSlug, detail: string, headers: Record<string, string> = {}) =>
      send(problemReply(problemBody(slug, detail), headers));
    if (open) {
      const refused = notLoopback([host], req.headers.origin);
      if (refused) return (discard(req), problem("forbidden", refused), true);
    } else {
      const denied = authorize(req.headers.authorization, "write:facts");
      if (denied) return (discard(req), problem(denied.slug, denied.detail, denied.headers), true);
    }
    const path = req.url!.split("?")[0]!;
    postFacts(deps.governor, {
      id: m[1]!,
      contentType: header(req, "content-type"),
      idempotencyKey: header(req, "idempotency-key"),
      prefer: header(req, "prefer"),
      body: () => readBody(req, deps.bodyLimitBytes),
    }).then(send, (e: unknown) => {
      const headers: Record<string, string> = e instanceof TooLarge ? { connection: "close" } : {};
      const body =
        e instanceof TooLarge ? problemBody("too-large", e.message) : problemOf(e, (x) => deps.report(x, "POST", path));
      discard(req);
      send(problemReply(body, headers));
    });
    return true;
  };
}

function problemReply(body: ReturnType<typeof problemBody>, headers: Record<string, string>): Reply {
  return {
    status: body.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
    body: JSON.stringify(body),
  };
}

/** A header hono would read: one value (Node joins repeated ones). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

class TooLarge extends Error {}

/** The body as text, refused (413) past `limit` bytes, by Content-Length or as it comes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
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
    req.on("end", () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

/** Lets the rest of an unread body go, so that the connection can serve the next request. */
function discard(req: IncomingMessage): void {
  if (!req.readableEnded && !req.destroyed) req.resume();
}
