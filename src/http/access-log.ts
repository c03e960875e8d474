// Request ids and the access log, for every request the server answers: the fast path, the
// hono app and the drain gate's 503s alike, since this wraps the server's one request listener
// (main.ts). Each request gets an id, the client's `x-request-id` when it is sane or a new
// one, echoed in the reply's `x-request-id`; once the reply is sent (or the client has gone),
// one line: method, path, status (null when no reply was sent), duration, request id and the
// name of the token used, never the token itself; `aborted` when the reply did not go out whole.
// Probes and /metrics log at `debug`, everything else at `info`; at a level that writes
// neither, a request costs its id and one header.

import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import type { TokenConfig } from "./auth.ts";

export const REQUEST_ID_HEADER = "x-request-id";

/** A client's request id worth keeping: 1-128 printable ASCII characters. */
const SANE_ID = /^[\x20-\x7e]{1,128}$/;

/** The client's request id when it is sane, else a new one. */
export function requestId(given: string | string[] | undefined): string {
  return typeof given === "string" && SANE_ID.test(given) ? given : randomUUID();
}

/** Routes that machines poll: their lines are `debug`, so that they do not drown the rest. */
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);

/** The scheme and authority of a request target in absolute form (`http://host:port`, RFC 9112 3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * The path of a request target, without its query, nor the scheme and authority of the absolute
 * form (`GET http://host:8080/readyz`, which the server serves as `/readyz`): a probe sent so is
 * still a probe, here and at the drain gate.
 */
export function pathOf(url: string | undefined): string {
  const u = (url ?? "/").replace(ABSOLUTE_FORM, "");
  const q = u.indexOf("?");
  return (q < 0 ? u : u.slice(0, q)) || "/";
}

/**
 * The name of the configured token an Authorization header carries, if any. Tokens are known
 * by their sha256, as auth.ts knows them; the header's own value is never kept.
 */
export function tokenNamer(tokens: readonly TokenConfig[]): (authorization: string | undefined) => string | undefined {
  const names = new Map(tokens.map((t) => [digest(t.token), t.name ?? "unnamed"]));
  if (names.size === 0) return () => undefined;
  return (authorization) => {
    const m = authorization === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(authorization);
    return m ? names.get(digest(m[1]!)) : undefined;
  };
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest("base64");

export interface AccessLogOptions {
  log: Logger;
  tokens: readonly TokenConfig[];
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Wraps the server's request listener: request ids for every request, and the access lines. */
export function withAccessLog(listener: Listener, options: AccessLogOptions): Listener {
  const { log } = options;
  const nameOf = tokenNamer(options.tokens);
  const enabled = (level: "debug" | "info") => log.isLevelEnabled?.(level) ?? true;
  // Levels are fixed for the life of the server: look once, not per request.
  const info = enabled("info");
  const debug = enabled("debug");
  return (req, res) => {
    const id = requestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, id);
    if (info || debug) {
      const path = pathOf(req.url);
      const quiet = QUIET.has(path);
      if (quiet ? debug : info) {
        const started = performance.now();
        res.once("close", () => {
          const fields: Record<string, unknown> = {
            method: req.method,
            path,
            // Node's statusCode is 200 until a reply sets another: a request the client gave up
            // on before any reply went out had none, and a 200 would say it succeeded.
            status: res.headersSent ? res.statusCode : null,
            ms: Math.round((performance.now() - started) * 1000) / 1000,
            requestId: id,
          };
          const token = nameOf(req.headers.authorization);
          if (token !== undefined) fields.tokenName = token;
          // The connection closed before the whole reply went out.
          if (!res.writableFinished) fields.aborted = true;
          if (quiet) log.debug("request", fields);
          else log.info("request", fields);
        });
      }
    }
    listener(req, res);
  };
}
