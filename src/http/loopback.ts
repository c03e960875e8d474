// DNS-rebinding protection for the token-less mode. Without tokens every request that reaches
// the loopback socket is allowed, so a web page on a domain that re-resolves to 127.0.0.1
// could drive the API through a browser (and the `process` driver runs configured commands).
// Such a request carries the attacker's domain in `Host` (and a foreign `Origin`): only
// loopback names pass. With tokens configured none of this applies: real deployments have real
// host names, and a browser cannot attach a bearer token on its own.

import type { MiddlewareHandler } from "hono";
import { problemResponse } from "./problem.ts";
import { fieldCount, incomingOf } from "./fields.ts";
import { sentMoreThanOnce } from "./validation.ts";

/** `host[:port]`, the host either bracketed (IPv6) or free of `:`, `[`, `]`, `/`, `@`. */
const HOST_PORT = /^(\[[^\]]*\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/;
const LOCALHOST = /^(?:[a-z0-9-]+\.)*localhost$/;
const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_LOOPBACK = new Set(["[::1]", "[0:0:0:0:0:0:0:1]"]);

/**
 * True for a `Host` value naming the loopback interface: `localhost`, `*.localhost`,
 * `127.x.y.z` or `[::1]`, each with an optional port. Case-insensitive; nothing else passes
 * (no trailing dot, no userinfo, no path).
 */
export function isLoopbackHost(value: string): boolean {
  const m = HOST_PORT.exec(value.toLowerCase());
  if (!m) return false;
  const host = m[1]!;
  if (m[2] !== undefined && Number(m[2]) > 65535) return false;
  if (IPV6_LOOPBACK.has(host) || LOCALHOST.test(host)) return true;
  const ip = IPV4_LOOPBACK.exec(host);
  return ip !== null && ip.slice(1).every((x) => Number(x) <= 255);
}

/** True for an `Origin` value `http(s)://<loopback host>[:port]` (no path; `null` is not). */
export function isLoopbackOrigin(value: string): boolean {
  const m = /^https?:\/\/(.*)$/i.exec(value);
  return m !== null && isLoopbackHost(m[1]!);
}

const shown = (s: string) => JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s);
const ADVICE = "use a loopback host name (localhost, 127.0.0.1, [::1]) or configure tokens (VIGIL_TOKENS)";

/**
 * Middleware for the token-less mode: 403 unless the `Host` header (and the host of the
 * request URL, which carries HTTP/2's `:authority`) is a loopback name, and unless any
 * `Origin` header is a loopback origin. Applies to every route, probes included.
 */
export function loopbackOnly(): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("host");
    const hosts = header === undefined ? [] : [header];
    hosts.push(new URL(c.req.url).host);
    const incoming = incomingOf(c);
    const refused = notLoopback(hosts, c.req.header("origin"), fieldCount(incoming, "origin"));
    if (refused) return problemResponse("forbidden", refused);
    await next();
  };
}

/**
 * Why a request's hosts or origin are not loopback ones (the 403's detail), or null.
 * `originFields`: how many Origin fields the request carried (fieldCount; 0 when not known).
 */
export function notLoopback(hosts: readonly string[], origin: string | undefined, originFields: number): string | null {
  for (const host of hosts)
    if (!isLoopbackHost(host))
      return `the host ${shown(host)} is not a loopback name; without tokens only loopback hosts are served: ${ADVICE}`;
  if (origin !== undefined && !isLoopbackOrigin(origin))
    return sentMoreThanOnce(origin, isLoopbackOrigin, originFields)
      ? `the Origin header was sent more than once (the origins arrive joined as ${shown(origin)}): send one`
      : `the origin ${shown(origin)} is not a loopback origin; without tokens only loopback hosts are served: ${ADVICE}`;
  return null;
}
