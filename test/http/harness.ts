// Shared setup for the HTTP tests: the real governor (test/helpers/services.ts) behind
// createApp, and a small client over app.request() (no sockets); for tests of the wire, the two
// doors as main.ts wires them, and a server of them on a port of its own (servedDoors).

import { readFileSync } from "node:fs";
import http, { type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { join } from "node:path";
import type { GovernorApi } from "../../src/governor/services.ts";
import { createApp } from "../../src/http/app.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { factsFastPath } from "../../src/http/fast-path.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

/** One token per scope, plus admin. Each at least 16 characters, as parseTokens requires. */
export const TOKENS = {
  read: "read-token-0123456789",
  facts: "facts-token-0123456789",
  objects: "objects-token-0123456789",
  admin: "admin-token-0123456789",
} as const;

export const TOKEN_CONFIG: TokenConfig[] = [
  { name: "reader", token: TOKENS.read, scopes: ["read"] },
  { name: "ingest", token: TOKENS.facts, scopes: ["write:facts"] },
  { name: "deployer", token: TOKENS.objects, scopes: ["write:objects"] },
  { name: "ops", token: TOKENS.admin, scopes: ["admin"] },
];

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is empty. */
  body: any;
  text: string;
}

export interface CallInit {
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
  /** Sent as is; set the content type yourself. */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  services: TestServices;
  app: ReturnType<typeof createApp>;
  call(method: string, path: string, init?: CallInit): Promise<Reply>;
  close(): Promise<void>;
}

export async function setup(
  opts: {
    tokens?: TokenConfig[];
    bodyLimitBytes?: number;
    governor?: GovernorApi;
    onInternalError?: (e: unknown) => void;
    maxStreams?: number;
  } = {},
): Promise<Harness> {
  const services = await makeServices({ tokens: opts.tokens ?? [] });
  const app = createApp({
    governor: opts.governor ?? services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens: services.tokens,
    ...(opts.bodyLimitBytes !== undefined ? { bodyLimitBytes: opts.bodyLimitBytes } : {}),
    ...(opts.onInternalError ? { onInternalError: opts.onInternalError } : {}),
    ...(opts.maxStreams !== undefined ? { maxStreams: opts.maxStreams } : {}),
  });
  const call = async (method: string, path: string, init: CallInit = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined = init.raw;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers["content-type"] ??= "application/json";
    }
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text), text };
  };
  return { services, app, call, close: () => services.close() };
}

/** The example policy document, for validate and dry-run tests. */
/** `{a: {a: ... 1}}`, `depth` objects deep. */
export const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

export function queueWorkerPolicy(): any {
  return JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8"));
}

/** Asserts the RFC 9457 shape and returns the body. */
export function expectProblem(reply: Reply, status: number, slug: string): any {
  const problem = reply.body;
  if (
    reply.status !== status ||
    reply.headers.get("content-type") !== "application/problem+json" ||
    problem?.type !== `https://vigil.dev/problems/${slug}`
  )
    throw new Error(
      `expected a ${status} ${slug} problem, got ${reply.status} ${reply.headers.get("content-type")}: ${reply.text}`,
    );
  if (problem.status !== status || typeof problem.title !== "string" || typeof problem.detail !== "string")
    throw new Error(`malformed problem: ${reply.text}`);
  return problem;
}

/**
 * The two doors of a server as main.ts wires them, over services of their own: hono's listener
 * and the fast path (with the policy registry unless `withPolicies` is false), and every
 * internal error either reports.
 */
export async function doors(
  tokens: TokenConfig[],
  bodyLimitBytes: number,
  withPolicies = true,
  /** What the doors see of the governor (a test may hold some of its calls). */
  wrap: (g: TestServices["governor"]) => GovernorApi = (g) => g,
) {
  const services = await makeServices({ tokens });
  const governor = wrap(services.governor);
  const reported: unknown[] = [];
  const report = (e: unknown) => reported.push(e);
  const app = createApp({
    governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens,
    bodyLimitBytes,
    onInternalError: report,
  });
  const hono = honoListener(app, report, tokens.length === 0);
  const fast = factsFastPath({
    governor,
    tokens,
    bodyLimitBytes,
    report,
    ...(withPolicies ? { policies: services.policies } : {}),
  });
  return { services, reported, hono, fast };
}

/**
 * A server of the two doors (the fast path first, unless `fastPath` is false) listening on a port
 * of its own, with an object `w1` of queue-worker, and how to close it and its services.
 */
export async function servedDoors(
  tokens: TokenConfig[],
  bodyLimitBytes: number,
  fastPath = true,
): Promise<{ services: TestServices; server: Server; port: number; close: () => Promise<void> }> {
  const d = await doors(tokens, bodyLimitBytes);
  await d.services.governor.putObject("w1", { policy: "queue-worker" });
  const server = httpServer((req, res) => {
    if (!(fastPath && d.fast(req, res))) void d.hono(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await d.services.close();
  };
  return { services: d.services, server, port: (server.address() as AddressInfo).port, close };
}

/**
 * GET /v1/events on `port`: the status and a problem's body; a stream that opens is cut at its
 * headers (its status is what is asked).
 */
export function openEvents(
  port: number,
  query: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: `/v1/events${query}`, headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (res.headers["content-type"] === "text/event-stream") {
        res.destroy();
        resolve({ status, text: "" });
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status, text }));
    });
    req.on("error", reject);
  });
}

/** A reply read off a raw connection by its framing: a 100 Continue is one too. */
export interface WireReply {
  status: number;
  connection: string | undefined;
  body: string;
}

/**
 * Sends `requests` to `port` in one write, as a client pipelining them, and reads the replies by
 * their Content-Length until `count` other than 100 have come (then closes) or the server closes.
 */
export function pipelined(port: number, requests: string[], count: number): Promise<WireReply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(requests.join("")));
    let buffer = Buffer.alloc(0);
    const replies: WireReply[] = [];
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) break;
        const head = buffer.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) break;
        replies.push({
          status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? Number.NaN),
          connection: /\r\nconnection: *([^\r]*)/i.exec(head)?.[1]?.toLowerCase(),
          body: buffer.subarray(end + 4, end + 4 + length).toString("utf8"),
        });
        buffer = buffer.subarray(end + 4 + length);
      }
      // Every reply read while the connection is still open (the server did not close it).
      if (replies.filter((r) => r.status !== 100).length >= count) socket.destroy();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(replies));
  });
}
