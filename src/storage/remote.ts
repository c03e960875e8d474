// A remote libsql server (VIGIL_DB_URL `libsql://`, `http(s)://`, `ws(s)://`): each round trip
// bounded (a server that accepts the connection and never answers would otherwise
// hold it for undici's own 300 s), round trips in flight cut on demand (a signal during
// start-up), and start-up's failures to reach it said in VIGIL_DB_URL's terms.

import { createClient, type Client } from "@libsql/client";
import { remoteFailure } from "../core/errors.ts";
import { fileFailure } from "./file-failure.ts";
import { filePath } from "./rows.ts";
import { ForeignDatabase, NewerDatabase } from "./schema-stamp.ts";

/** How long one round trip to a remote database over HTTP may go unanswered before it fails. */
export const REMOTE_ANSWER_MS = 15_000;

/** Whether the URL names a remote server (not a file, not `:memory:`). */
export const isRemote = (url: string): boolean => url !== ":memory:" && !url.startsWith("file:");

/**
 * fetch for the libsql client: each request, its answer read whole, fails after `ms` (code
 * VIGIL_DB_NO_ANSWER) and when `cut` is aborted; a request that fails otherwise (refused, reset,
 * an unknown host) fails with code VIGIL_DB_UNREACHABLE, what fetch threw as its cause. Those
 * codes tell the database's failures from others (core/errors.ts remoteFailure).
 */
export function boundedFetch(cut: AbortSignal, ms = REMOTE_ANSWER_MS): typeof fetch {
  return async (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    try {
      const r = await fetch(input, { ...init, signal: AbortSignal.any([cut, timeout]) });
      // A status without a body (204, 304) takes none (Response refuses one, even empty).
      const body = [101, 204, 205, 304].includes(r.status) ? null : await r.arrayBuffer();
      return answer(body, r);
    } catch (e) {
      if (cut.aborted) throw e;
      if (timeout.aborted) throw noAnswer(ms, e);
      throw Object.assign(new Error("fetch failed", { cause: e }), { code: "VIGIL_DB_UNREACHABLE" });
    }
  };
}

/**
 * A remote server's reply, read whole. One the client cannot read as JSON (another HTTP service's
 * page) threw JSON's own SyntaxError, which names nothing: it fails with code VIGIL_DB_NOT_LIBSQL.
 */
function answer(body: ArrayBuffer | null, r: Response): Response {
  const reply = new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });
  const json = reply.json.bind(reply);
  const notJson = (cause: unknown) =>
    Object.assign(new Error(`its reply (HTTP ${r.status}) is not JSON`), { code: "VIGIL_DB_NOT_LIBSQL", cause });
  Object.defineProperty(reply, "json", { value: () => json().catch((e: unknown) => Promise.reject(notJson(e))) });
  return reply;
}

/** The client's calls that make round trips, bounded over a WebSocket (boundedCalls). */
const ROUND_TRIPS = new Set<PropertyKey>(["execute", "batch", "migrate", "executeMultiple"]);

/** The error of a round trip that had no answer within `ms`. */
const noAnswer = (ms: number, cause?: unknown) =>
  Object.assign(new Error(`did not answer within ${ms / 1000} s`), { code: "VIGIL_DB_NO_ANSWER", cause });

/**
 * A WebSocket client whose round trips fail after `ms` unanswered (its connection has no bound
 * of its own: a server that accepts it and never answers holds every call). The call itself is
 * left to end when it may.
 */
function boundedCalls(client: Client, ms: number): Client {
  return new Proxy(client, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (!ROUND_TRIPS.has(key)) return value.bind(target);
      return (...args: unknown[]) => {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(noAnswer(ms)), ms)));
        return Promise.race([value.apply(target, args) as Promise<unknown>, bound]).finally(() => clearTimeout(timer));
      };
    },
  });
}

/**
 * The client for `options`; for a remote server, with each round trip bounded, and `interrupt`
 * to fail the round trips in flight at once.
 */
export function openClient(options: { url: string; authToken?: string; readOnly?: boolean; immutable?: boolean }): {
  client: Client;
  interrupt: () => void;
} {
  const cut = new AbortController();
  const remote = isRemote(options.url);
  const client = createClient({
    url: options.readOnly ? readOnlyUrl(options.url, options.immutable) : options.url,
    ...(options.authToken ? { authToken: options.authToken } : {}),
    // A file is read on one connection, opened once: the client's pool opened another for a read
    // made while one was borrowed (reads side by side), which opened the path again, without the
    // store's busy timeout. Once the file was removed under the server, that made an empty
    // database there (SQLite, finding it empty, deleted the -wal beside it) and the read failed
    // ("no such table", a 500); once another file was moved over the path, it read that one. Its
    // reads are synchronous, so one connection serves them as fast.
    ...(remote ? { fetch: boundedFetch(cut.signal) } : { concurrency: 1 }),
  });
  const socket = /^wss?:/i.test(options.url);
  const interrupt = () => {
    if (!remote) return;
    cut.abort();
    client.close();
  };
  return { client: socket ? boundedCalls(client, REMOTE_ANSWER_MS) : client, interrupt };
}

/**
 * The URL of a file database that its client opens read-only (SQLITE_OPEN_READONLY, by SQLite's
 * URI filename `file:PATH?mode=ro`, which libsql honours; the client takes no such parameter
 * itself but passes its URL's path, percent-decoded, to libsql). A connection that only reads
 * does not checkpoint as it closes: the last connection to a WAL database otherwise folds the
 * -wal file into the database and deletes it. `immutable`: SQLite's `immutable=1` besides, which
 * reads the file with no lock and no -shm index (LibsqlOptions.immutable says when). Other URLs
 * are as they are.
 */
export function readOnlyUrl(url: string, immutable = false): string {
  const path = filePath(url);
  if (path === null) return url;
  // Escaped as SQLite's URI filenames need; an absolute path after an empty authority.
  const escaped = path.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `file:${encodeURIComponent(`file:${path.startsWith("/") ? "//" : ""}${escaped}?mode=ro${immutable ? "&immutable=1" : ""}`)}`;
}

/**
 * Runs start-up's database work; a signal meanwhile calls `cut` (which fails the round trips
 * in flight to a remote server, so that start-up stops at once instead of after their bound).
 */
export async function interruptible<T>(work: () => Promise<T>, signal: AbortSignal | undefined, cut: () => void) {
  signal?.throwIfAborted();
  signal?.addEventListener("abort", cut);
  try {
    return await work();
  } finally {
    signal?.removeEventListener("abort", cut);
  }
}

/**
 * Start-up's error for what stopped it while it opened the database at `url` (`shown`: the URL
 * as it may be shown): null when it is not about that database. Another program's database, or
 * no database at all, is a bad value (`invalid`); a file that could not be written (the disk
 * full), a remote server that could not be reached or that refused the token, is a failure
 * naming the file or VIGIL_DB_URL (`failed`): it may pass. So is a newer Vigil's database (it
 * will not pass: it is not a bad value of the variable, the Vigil is the wrong one).
 */
export function databaseStartError(
  e: unknown,
  url: string,
  shown: string,
): { invalid: string } | { failed: string } | null {
  if (e instanceof ForeignDatabase) return { invalid: `VIGIL_DB_URL: ${shown}: ${e.message}` };
  if (e instanceof NewerDatabase) return { failed: `VIGIL_DB_URL: ${shown}: ${e.message}` };
  if ((e as { code?: unknown } | null)?.code === "SQLITE_NOTADB")
    return { invalid: `VIGIL_DB_URL: ${shown}: it is not an SQLite database; it was left untouched` };
  // A file that cannot be written (the disk full, an I/O error, a lock held past the busy timeout).
  const path = filePath(url);
  const file = path === null ? null : fileFailure(e, path);
  if (file !== null) return { failed: file };
  if (isRemote(url) && notLibsqlReply(e))
    return {
      failed: `VIGIL_DB_URL: the database at ${shown} answered with a reply that is not a libsql server's: is VIGIL_DB_URL the address of a libsql server?`,
    };
  const remote = isRemote(url) ? remoteFailure(e) : null;
  if (remote === null) return null;
  const hint =
    remote.status === 401 || remote.status === 403
      ? ": VIGIL_DB_AUTH_TOKEN is missing, or not a token it accepts"
      : remote.status !== undefined && !remote.passing
        ? ": is VIGIL_DB_URL the address of a libsql server?"
        : "";
  return { failed: `VIGIL_DB_URL: the database at ${shown} ${remote.reason}${hint}` };
}

/**
 * Whether `e` is a reply the client could not read as a libsql server's: not JSON (boundedFetch),
 * or JSON of another shape (HRANA_PROTO_ERROR).
 */
function notLibsqlReply(e: unknown): boolean {
  for (let x = e, n = 0; x !== null && typeof x === "object" && n < 6; x = (x as { cause?: unknown }).cause, n++) {
    const code = (x as { code?: unknown }).code;
    if (code === "VIGIL_DB_NOT_LIBSQL" || code === "HRANA_PROTO_ERROR") return true;
  }
  return false;
}
