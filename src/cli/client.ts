// The CLI's side of the HTTP API: where the server is (--url, VIGIL_URL), the bearer token
// (--token, VIGIL_TOKEN), one request function, and every way a request can fail turned into
// an exit code and a message a person can act on (usage.ts holds the table of codes).

import { fstatSync } from "node:fs";
import { readAllText } from "../contracts/text.ts";
import { reasonOf } from "./fetch-reasons.ts";
import { printable, writeStderr } from "./printable.ts";
import { decimalNumber, headerCanCarry } from "./values.ts";
import { EXIT, synopsisLine, type CommandName } from "./usage.ts";

export const DEFAULT_URL = "http://127.0.0.1:8080";
/** How long a request may take, in seconds, when --timeout and VIGIL_TIMEOUT do not say. */
export const DEFAULT_TIMEOUT_S = 30;
/** The longest --timeout: a day. */
const MAX_TIMEOUT_S = 86_400;

/** A failure the command reports on stderr as `vigil COMMAND: message`, exiting with `code`. */
export class CliError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Printed after the message: the synopsis, for usage errors. */
    readonly hint?: string,
    /** The HTTP status of the reply it stands for, if any. */
    readonly status?: number,
    /** The reply's Retry-After, in ms (from seconds or an HTTP date). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "CliError";
  }

  /** Why no reply came, in a few words (`connection refused`, `timed out after 30 s`). */
  reason?: string;
}

/** A usage error: the message, then the command's synopsis. */
export const usageError = (command: CommandName, message: string) =>
  new CliError(EXIT.usage, message, synopsisLine(command));

/** What a command reads and writes; tests pass their own, the binary the process's. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Record<string, string | undefined>;
  /** The whole of stdin, for `-` arguments. */
  stdin: () => Promise<string>;
  /** Waits between reconnections of `vigil events`; tests pass one that does not wait. */
  sleep: (ms: number) => Promise<void>;
  /** Calls `fire` after `ms` unless cancelled first (request timeouts, a silent stream); tests fire it themselves. */
  setTimer: Timer;
  /** Stops a command that runs until interrupted (`vigil events`). */
  signal?: AbortSignal;
}

export type Timer = (ms: number, fire: () => void) => () => void;

/** stdin's text; a directory there (`< /tmp`) reads as nothing, which is said as what it is. */
async function readStdin(): Promise<string> {
  if (fstatSync(0).isDirectory()) throw Object.assign(new Error("stdin is a directory"), { code: "EISDIR" });
  return readAllText(process.stdin);
}

export function processIo(io: Partial<Io> = {}): Io {
  return {
    out: (s) => process.stdout.write(s),
    err: writeStderr,
    env: process.env,
    stdin: readStdin,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    setTimer: (ms, fire) => {
      const timer = setTimeout(fire, ms);
      return () => clearTimeout(timer);
    },
    ...io,
  };
}

/**
 * Runs a command's body and turns a CliError into its message and exit code. Errors of
 * parseArgs (an unknown option) go through to main.ts, which prints the usage with them.
 */
export async function reporting(command: CommandName, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`vigil ${command}: ${e.message}\n${e.hint ? `${e.hint}\n` : ""}`);
    return e.code;
  }
}

export interface Target {
  /** The server's base URL, without a trailing slash. */
  url: string;
  token: string | undefined;
  /** How long one request may take, in ms (--timeout, VIGIL_TIMEOUT). */
  timeoutMs: number;
  setTimer: Timer;
}

/** The server, token and timeout from the flags, else the environment, else the defaults. */
export function targetOf(
  command: CommandName,
  flags: { url?: string; token?: string; timeout?: string },
  io: Io,
): Target {
  const raw = flags.url ?? (io.env.VIGIL_URL || DEFAULT_URL);
  // Named as the user gave it: the flag, or the variable.
  const given = flags.url !== undefined ? "--url" : "VIGIL_URL";
  // Never echoed with a password in it, even when it is not a URL at all (`http:/user:pw@host`).
  const shown = raw.replace(
    /^([A-Za-z][A-Za-z0-9+.-]*:)?([/\\]*)[\s\S]*@/,
    (_all, scheme: string | undefined, slashes: string) => `${scheme ?? ""}${slashes}...@`,
  );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(command, `${given} "${shown}" is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError(command, `${given} "${shown}" must be an http:// or https:// URL`);
  if (url.username !== "" || url.password !== "")
    throw usageError(
      command,
      `${given} holds a user name or password (user:password@); give the token with --token or VIGIL_TOKEN instead`,
    );
  // The paths are appended to it: after a query or a fragment they would not be paths.
  if (/[?#]/.test(url.href))
    throw usageError(
      command,
      `${given} "${shown}" has a query or a fragment; give the server's base URL (e.g. ${DEFAULT_URL})`,
    );
  const token = flags.token ?? (io.env.VIGIL_TOKEN || undefined);
  if (token !== undefined && !headerCanCarry(token))
    throw usageError(
      command,
      `the token (${flags.token !== undefined ? "--token" : "VIGIL_TOKEN"}) holds a line break or a character an HTTP header cannot carry`,
    );
  const timeoutText = flags.timeout ?? (io.env.VIGIL_TIMEOUT || undefined);
  const timeout = timeoutText === undefined ? DEFAULT_TIMEOUT_S : decimalNumber(timeoutText);
  if (!(timeout > 0 && timeout <= MAX_TIMEOUT_S))
    throw usageError(
      command,
      `${flags.timeout !== undefined ? "--timeout" : "VIGIL_TIMEOUT"} takes a number of seconds above 0, at most ${MAX_TIMEOUT_S}`,
    );
  return {
    url: url.href.replace(/\/+$/, ""),
    token,
    timeoutMs: Math.max(1, Math.round(timeout * 1000)),
    setTimer: io.setTimer,
  };
}

/** The message for a server that cannot be reached at all (exit 3). */
export function unreachable(target: Target, error: unknown): CliError {
  const reason = reasonOf(error);
  return Object.assign(
    new CliError(EXIT.unreachable, `cannot reach ${target.url} (${reason}); is the server running? (\`npm start\`)`),
    { reason },
  );
}

export interface ProblemLike {
  type?: unknown;
  title?: unknown;
  detail?: unknown;
  errors?: unknown;
}

/** A problem+json reply as lines: `STATUS TITLE: DETAIL`, then each `path: message`. */
export function formatProblem(status: number, body: unknown, fallback = ""): string {
  const p = (typeof body === "object" && body !== null ? body : {}) as ProblemLike;
  const title = typeof p.title === "string" ? p.title : fallback;
  const detail = typeof p.detail === "string" ? p.detail : "";
  const lines = [`${status}${title ? ` ${title}` : ""}${detail ? `: ${detail}` : ""}`];
  if (Array.isArray(p.errors))
    for (const e of p.errors as { path?: unknown; message?: unknown }[])
      lines.push(`  ${String(e?.path ?? "$")}: ${String(e?.message ?? "")}`);
  return lines.map(printable).join("\n");
}

/** Vigil's problem type for an object or decision that does not exist (and for a route none serves). */
const NOT_FOUND = "https://vigil.dev/problems/not-found";

/**
 * Whether a 404 says that the object or decision asked for does not exist: Vigil's problem, and
 * not its answer for a route it does not serve. Another service's 404, or a base URL with a path
 * in it, is no answer about the object, and a script asking "does it exist?" must not take it for one.
 */
function missing(status: number, body: unknown): boolean {
  if (status !== 404 || typeof body !== "object" || body === null) return false;
  const p = body as ProblemLike;
  return p.type === NOT_FOUND && !(typeof p.detail === "string" && p.detail.startsWith("no route for "));
}

/** The exit code for an error reply: 4 for the token, 1 for what does not exist, 5 otherwise. */
export function exitCodeOf(status: number, body?: unknown): number {
  if (status === 401 || status === 403) return EXIT.refused;
  if (missing(status, body)) return EXIT.failed;
  return EXIT.serverError;
}

/** Turns an error reply into its CliError, with a hint on what to do about a token. */
export function replyError(target: Target, status: number, body: unknown, text: string, headers?: Headers): CliError {
  // A reply that is not a problem (a proxy's HTML page): its status and the start of its text.
  const fallback = body === undefined ? text.trim().slice(0, 200) : "";
  let message = formatProblem(status, body, fallback);
  if (status === 401)
    message += target.token
      ? "\n  the token given (--token or VIGIL_TOKEN) is not one the server knows"
      : "\n  the server needs a token: pass --token TOKEN or set VIGIL_TOKEN";
  if (status === 403) message += "\n  use a token that has the scope named above (or admin)";
  if (status === 404 && !missing(status, body))
    message += `\n  no such route at ${target.url}: is it the Vigil server's base URL (--url or VIGIL_URL)?`;
  return new CliError(exitCodeOf(status, body), message, undefined, status, retryAfterMs(headers));
}

/**
 * A reply's Retry-After in ms: seconds (what Vigil sends), or an HTTP date (what a proxy in front
 * of it may send), counted from the reply's own Date so that the two clocks need not agree.
 */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const value = headers?.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const sent = Date.parse(headers?.get("date") ?? "");
  return Math.max(0, at - (Number.isNaN(sent) ? Date.now() : sent));
}

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when there is none. */
  body: unknown;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  headers?: Record<string, string>;
}

/** The URL of `path` on the server, with the query's defined values. */
export function urlOf(target: Target, path: string, query: RequestOptions["query"] = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${target.url}${path}${qs ? `?${qs}` : ""}`;
}

/** Headers every request carries: the token, when there is one. */
export function authHeaders(target: Target): Record<string, string> {
  return target.token ? { authorization: `Bearer ${target.token}` } : {};
}

/** A bound on one request's time: `signal` aborts when the target's timeout passes (or `outer` aborts). */
export function deadline(target: Target, outer?: AbortSignal) {
  const controller = new AbortController();
  let expired = false;
  const cancel = target.setTimer(target.timeoutMs, () => {
    expired = true;
    controller.abort();
  });
  const signal = outer ? AbortSignal.any([controller.signal, outer]) : controller.signal;
  return { signal, expired: () => expired, cancel };
}

/** The message for a request that ran out of time (exit 3, as a server that cannot be reached). */
export function timedOut(target: Target): CliError {
  const reason = `timed out after ${target.timeoutMs / 1000} s`;
  return Object.assign(
    new CliError(
      EXIT.unreachable,
      `${target.url} did not answer: ${reason} (--timeout or VIGIL_TIMEOUT to wait longer)`,
    ),
    { reason },
  );
}

/** Why fetch failed before a reply came: out of time, a redirect loop (5), a Fetch "bad port" (2), else not reached (3). */
export function fetchFailure(target: Target, error: unknown, expired: boolean): CliError {
  if (expired) return timedOut(target);
  const cause = (error as { cause?: { message?: unknown } }).cause;
  if (cause?.message === "redirect count exceeded")
    return new CliError(EXIT.serverError, `${target.url} answered with redirects in a loop`);
  if (cause?.message === "bad port") return new CliError(EXIT.usage, `${target.url}: ${BAD_PORT}`);
  return unreachable(target, error);
}

const BAD_PORT = // 6000, 6665-6669, 10080...: refused before connecting, so a server may well run there
  "fetch does not connect to its port (or to a redirect's): it is one of the ports the Fetch standard blocks, as browsers do; run the server on another port (--port or VIGIL_PORT)";

/** A reply's text as JSON; undefined when it is empty or not JSON (a proxy's HTML page). */
export function jsonOf(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A reply's body as text; one cut off before its end is the server's failure (5), not an unreachable server. */
export async function bodyText(target: Target, res: Response, expired: () => boolean): Promise<string> {
  try {
    return await res.text();
  } catch (e) {
    if (expired()) throw timedOut(target);
    throw new CliError(
      EXIT.serverError,
      `${target.url} answered ${res.status}, but the reply was cut off before its end (${reasonOf(e)})`,
      undefined,
      res.status,
    );
  }
}

/**
 * One request, within the target's timeout. Resolves with a 2xx reply; throws CliError for a
 * server that cannot be reached or did not answer in time (3), a refused token (4), a 404 (1),
 * or any other reply (5). A redirect is followed for a GET only: one for a PUT, POST or DELETE
 * (which fetch would send on as a GET, or send the body to another host) is a reply of its own.
 */
export async function request(
  target: Target,
  method: string,
  path: string,
  opts: RequestOptions = {},
  signal?: AbortSignal,
): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json", ...authHeaders(target), ...opts.headers };
  if (opts.json !== undefined) headers["content-type"] = "application/json";
  const time = deadline(target, signal);
  let res: Response;
  let text: string;
  try {
    try {
      res = await fetch(urlOf(target, path, opts.query), {
        method,
        headers,
        redirect: method === "GET" ? "follow" : "manual",
        ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
        signal: time.signal,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw fetchFailure(target, e, time.expired());
    }
    text = await bodyText(target, res, time.expired);
  } finally {
    time.cancel();
  }
  const body = jsonOf(text);
  if (res.status >= 400) throw replyError(target, res.status, body, text, res.headers);
  if (res.status >= 300) {
    const location = res.headers.get("location");
    const to = location ? ` (a redirect to ${location})` : "";
    throw new CliError(
      EXIT.serverError,
      method === "GET"
        ? `${target.url} answered ${res.status}${to}, not a reply the command can use`
        : `${target.url} answered ${res.status}${to} to ${method}; a ${method} is not sent on to another ` +
            "URL: give --url the server's own address",
    );
  }
  if (res.status < 200) throw new CliError(EXIT.serverError, `${target.url} answered ${res.status}, not a reply`);
  return { status: res.status, headers: res.headers, body };
}

/**
 * `/v1/objects/{id}` and the like: a path segment, encoded. An empty id, `.` and `..` are refused
 * as usage: a URL resolves the last two as path steps (encoded too), and each would send the
 * request to another route.
 */
export function seg(command: CommandName, s: string): string {
  if (s === "") throw usageError(command, "the id is empty");
  if (s === "." || s === "..")
    throw usageError(command, `"${s}" is a path step in a URL, so no request can name it as an id`);
  return encodeURIComponent(s);
}
