// Domain errors with a stable kind, and the `{path, message}` problem every validation in
// Vigil reports. The edges decide what a kind means to their callers (http/problem.ts maps
// each kind to one status code); nothing here knows about HTTP.

/** One thing wrong with an input, at a JSON path inside it (`$.rules[1].event.type`). */
export interface Problem {
  path: string;
  message: string;
}

/** What went wrong, in the domain's words. */
export type ErrorKind = "not-found" | "invalid" | "conflict" | "precondition" | "unavailable" | "overloaded";

export class VigilError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = "VigilError";
  }
}

export const notFound = (what: string) => new VigilError("not-found", `${what} not found`);
export const invalid = (message: string, problems: Problem[] = []) => new VigilError("invalid", message, problems);
export const conflict = (message: string) => new VigilError("conflict", message);

/**
 * What a conditional request requires of the object: `exists` (`If-Match: *`), `absent`
 * (`If-None-Match: *`), or `never` (an `If-Match` listing entity tags, which objects do not
 * have, or both stars at once): it cannot hold.
 */
export type Precondition = "exists" | "absent" | "never";

/** A request's precondition does not hold: nothing was done. */
const preconditionFailed = (message: string) => new VigilError("precondition", message);

/** Throws when the object's existence is not what `precondition` asks for. */
export function checkPrecondition(precondition: Precondition | undefined, id: string, exists: boolean): void {
  if (precondition === "exists" && !exists)
    throw preconditionFailed(`If-Match: * asks for an existing object, and there is no object "${id}"`);
  if (precondition === "absent" && exists)
    throw preconditionFailed(`If-None-Match: * asks for no object, and "${id}" exists`);
  if (precondition === "never")
    throw preconditionFailed(
      'If-Match names entity tags, and objects have none, or holds * among other members (If-Match: * sent twice arrives as "*, *"), or comes with If-None-Match: *: only one If-Match: *, alone, can hold',
    );
}

/** A repeat of a request whose decision retention has deleted: it cannot be replayed. */
export class ReplayGone extends VigilError {
  constructor(
    message: string,
    readonly decisionId: string,
  ) {
    super("conflict", message);
    this.name = "ReplayGone";
  }
}
/** Something Vigil depends on (a substrate, the database) cannot do it now; trying later may work. */
export const unavailable = (message: string) => new VigilError("unavailable", message);
/** The longest a substrate's Retry-After is passed on to a client: a far date is not told for days. */
export const MAX_SUBSTRATE_RETRY_AFTER_MS = 3_600_000;
/**
 * A substrate that asked for a pause (its Retry-After, as a Fly 429's) could not do it now: the
 * reply passes the pause on, at most {@link MAX_SUBSTRATE_RETRY_AFTER_MS}, so that a client does
 * not send the request again within seconds, to be refused again.
 */
export class SubstrateBusy extends VigilError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super("unavailable", message);
    this.name = "SubstrateBusy";
    this.retryAfterMs = Math.min(Math.max(retryAfterMs, 0), MAX_SUBSTRATE_RETRY_AFTER_MS);
  }
}
/**
 * An object's policy is not loaded (its file refused or gone at start, with no stored version
 * to serve): its facts and evaluations cannot be taken now, and will be once the policy loads.
 * Not the client's mistake, as a PUT naming an unknown policy is (`invalid` at `$.policy`).
 */
export class PolicyNotLoaded extends VigilError {
  constructor(readonly policy: string) {
    super(
      "unavailable",
      `the object's policy "${policy}" is not loaded (its file is refused or gone, and no version of it stored in the database can serve): ` +
        "nothing was applied; try again once it loads",
    );
    this.name = "PolicyNotLoaded";
  }
}
/** A write refused because another server governs the database now (governor/fence.ts). */
export class LeaseLost extends VigilError {
  constructor() {
    super("unavailable", "this server no longer governs this database: its lease was lost");
  }
}
export const leaseLost = () => new LeaseLost();
/**
 * A deletion of a long history that failed after its first batch (storage/deletion.ts): the
 * object is gone for every request from then on, and the rest is deleted by the DELETE sent
 * again, or when the server next starts.
 */
export class DeletionUnfinished extends VigilError {
  constructor(id: string, cause: unknown) {
    super(
      "unavailable",
      `the deletion of "${id}" began and did not finish (${cause instanceof Error ? cause.message : String(cause)}): ` +
        "the object is gone, part of its history is still stored; send the DELETE again to finish it " +
        "(the server also finishes it when it next starts)",
    );
    this.name = "DeletionUnfinished";
  }
}
/**
 * A database error that may pass (SQLite's codes, as libsql and the writer thread carry them):
 * the file locked by another program past the busy timeout, the disk full, an I/O error, the
 * file made read-only. Nothing was written; the same request may succeed later.
 */
export function isPassingStorageError(error: unknown): boolean {
  return error instanceof Error && storageCode(error) !== null;
}

/**
 * The code of a database error that may pass ({@link isPassingStorageError}), on the error or on
 * what it wraps: drizzle's reads throw their own error ("Failed query: ..."), SQLite's as its
 * cause, so a read the disk failed was a 500 where the same failure unwrapped was a 503.
 */
function storageCode(error: unknown): string | null {
  let e = error;
  for (let depth = 0; depth < 6 && e !== null && typeof e === "object"; depth++, e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      (code === WRITER_EXITED || /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN)(_|$)/.test(code))
    )
      return code;
  }
  return null;
}

/**
 * The code of a write that failed because the writer thread of a file database stopped
 * (storage/sql-writer.ts): nothing is written from then on. A passing error as the others are,
 * but not one that passes by waiting: the lease's renewals fail too, the server stops once it
 * runs out, and started again it has a writer thread again.
 */
export const WRITER_EXITED = "VIGIL_WRITER_EXITED";

/**
 * SQLite's code for a write to a database file removed or replaced since it was opened (the
 * writer thread checks for it before each transaction, and for its write-ahead log and the log's
 * -shm index too:
 * sql-writer-worker.mjs). A passing error
 * as the others are, but not one that passes by waiting: the server stops once its lease is
 * lost, and started again opens the file now at the path.
 */
export const DB_MOVED = "SQLITE_READONLY_DBMOVED";

/** Why the database refused a write for a reason that may pass ({@link isPassingStorageError}), in a reply's words. */
export function storageRefusal(error: unknown): string {
  const code = storageCode(error);
  if (code === WRITER_EXITED)
    return "this server's writer thread stopped, and nothing can be written until the server is started again: it stops once its lease runs out";
  return code === DB_MOVED
    ? "its file was removed or replaced since this server opened it (the database file, its -wal log or its -shm index), and nothing written now would be read again: the server stops once its lease runs out, and opens the file now at the path when started again"
    : "locked by another program, full, or not writable";
}

/** How a remote database failed to answer (remoteFailure): why, and whether trying later may work. */
export interface RemoteFailure {
  /** What the database did, to follow "the database" (`refused the connection`). */
  reason: string;
  /** The connection or the server may come back (not a refused token, not a wrong URL). */
  passing: boolean;
  /** The HTTP status it answered with, if it answered. */
  status?: number;
}

const NETWORK_REASONS: [RegExp, string][] = [
  [/^(VIGIL_DB_NO_ANSWER|ETIMEDOUT|UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT|TimeoutError)$/, "did not answer in time"],
  [/^ECONNREFUSED$/, "refused the connection"],
  [/^(ENOTFOUND|EAI_AGAIN)$/, "could not be found (its host name does not resolve)"],
  [/^(EHOSTUNREACH|ENETUNREACH|EHOSTDOWN)$/, "is unreachable from this host"],
  [/^(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CLOSED)$/, "closed the connection without answering"],
];

/**
 * The codes a failure to reach a remote database carries: the bounded fetch's (storage/remote.ts:
 * no answer in time, or its request failed) and @libsql/client's (an HTTP error status, a
 * WebSocket error, a connection it closed).
 */
const LIBSQL_TRANSPORT =
  /^(VIGIL_DB_NO_ANSWER|VIGIL_DB_UNREACHABLE|VIGIL_DB_NOT_LIBSQL|SERVER_ERROR|HRANA_WEBSOCKET_ERROR|HRANA_CLOSED_ERROR|HRANA_PROTO_ERROR)$/;

/**
 * What a remote server did that answered with what the client cannot read as a libsql server's
 * reply: not JSON (storage/remote.ts boundedFetch, VIGIL_DB_NOT_LIBSQL), or JSON of another shape
 * (the client's HRANA_PROTO_ERROR). A proxy's or a load balancer's page, say: it may pass.
 */
export const NOT_LIBSQL_REPLY = "answered with a reply that is not a libsql server's";

/**
 * Why a remote libsql server could not be reached, or answered with an HTTP error or a reply that
 * is not a libsql server's instead of a result (the transport failed: fetch's, the Hrana client's and the WebSocket's errors, as
 * @libsql/client carries them), or null for any other error (SQLite's own, say). A write that
 * failed so may or may not have been committed: its reply may have been lost on the way back.
 */
export function remoteFailure(error: unknown): RemoteFailure | null {
  const chain: { code?: unknown; name?: unknown; message?: unknown; status?: unknown; cause?: unknown }[] = [];
  for (let e = error; e !== null && typeof e === "object" && chain.length < 6; e = (e as { cause?: unknown }).cause)
    chain.push(e as (typeof chain)[number]);
  const marks = chain.flatMap((e) => [e.code, e.name]).filter((m): m is string => typeof m === "string");
  // Only the client's own errors: a driver's fetch failing is no failure of the database's.
  if (marks.some((m) => m.startsWith("SQLITE_")) || !marks.some((m) => LIBSQL_TRANSPORT.test(m))) return null;
  const noAnswer = chain.find((e) => e.code === "VIGIL_DB_NO_ANSWER");
  if (noAnswer) return { reason: String(noAnswer.message), passing: true };
  // Answered, with what is no reply of a libsql server's: a write may or may not have gone through.
  if (marks.some((m) => m === "VIGIL_DB_NOT_LIBSQL" || m === "HRANA_PROTO_ERROR"))
    return { reason: NOT_LIBSQL_REPLY, passing: true };
  const text = chain.map((e) => String(e.message ?? "")).join(" ");
  for (const [pattern, reason] of NETWORK_REASONS)
    if (marks.some((m) => pattern.test(m)) || new RegExp(pattern.source.replace(/^\^|\$$/g, "")).test(text))
      return { reason, passing: true };
  const http = marks.includes("SERVER_ERROR") || marks.includes("HRANA_WEBSOCKET_ERROR");
  const status =
    chain.map((e) => e.status).find((s): s is number => typeof s === "number") ??
    (http ? Number(/(?:HTTP status|server response:?) (\d{3})/i.exec(text)?.[1] ?? Number.NaN) : Number.NaN);
  if (!Number.isNaN(status)) {
    if (status === 401 || status === 403)
      return { reason: `refused the token (HTTP ${status})`, passing: false, status };
    return { reason: `answered HTTP ${status}`, passing: status >= 500 || status === 429, status };
  }
  if (marks.includes("HRANA_WEBSOCKET_ERROR")) return { reason: "broke the WebSocket connection", passing: true };
  if (marks.includes("HRANA_CLOSED_ERROR")) return { reason: "closed the connection", passing: true };
  if (marks.includes("VIGIL_DB_UNREACHABLE")) return { reason: "could not be reached", passing: true };
  return null;
}

/** A remote database that could not be reached for now (remoteFailure, passing). */
export const isUnreachableDatabase = (error: unknown): boolean => remoteFailure(error)?.passing === true;

/**
 * The 503's detail for a request that failed so (`error`): it may have been recorded, and a retry
 * must say it is the same. A database that answered what is not a libsql server's reply is said
 * to have failed so, not to be out of reach.
 */
export function unreachableDetail(error: unknown): string {
  const what =
    remoteFailure(error)?.reason === NOT_LIBSQL_REPLY
      ? `the database failed: it ${NOT_LIBSQL_REPLY}`
      : "the database could not be reached";
  return `${what}; if this request changes anything, it may or may not have been recorded: send it again (facts with the same Idempotency-Key, a CloudEvent with the same source and id) so that it is applied once`;
}

/**
 * `error` from a write made after the object's compute was stopped (a DELETE, a new binding):
 * when the database refused it for now, a 503 that says the compute is stopped and the object
 * kept its record (not that nothing changed); when a remote database could not be reached, or
 * failed with what is no libsql server's reply, one that says which and that the write may or may
 * not have been recorded; any other error as it is.
 */
export function afterStop(error: unknown, id: string, what: string): unknown {
  if (isUnreachableDatabase(error)) {
    // One that answered what is no libsql server's reply failed, as unreachableDetail says.
    const failed =
      remoteFailure(error)?.reason === NOT_LIBSQL_REPLY
        ? `failed to record the ${what}: it ${NOT_LIBSQL_REPLY}; the ${what}`
        : `could not be reached to record the ${what}: it`;
    return Object.assign(
      unavailable(
        `the compute of "${id}" was stopped, but the database ${failed} may or may not have been recorded, and until it is the object keeps its record and its compute stays stopped until reconciliation observes it or its rules wake it; send the same request again`,
      ),
      { cause: error },
    );
  }
  if (!isPassingStorageError(error)) return error;
  return Object.assign(
    unavailable(
      `the compute of "${id}" was stopped, but the database refused to record the ${what} for now (${storageRefusal(error)}): the object keeps its record, and its compute stays stopped until reconciliation observes it or its rules wake it; send the same request again`,
    ),
    { cause: error },
  );
}

/** Too much is already waiting for this (an object's mailbox is full); trying a little later will work. */
export const overloaded = (message: string) => new VigilError("overloaded", message);

/** Re-roots problems found inside a part of a document (`$.a` under `$.policy` is `$.policy.a`). */
export function prefixProblems(problems: Problem[], at: string): Problem[] {
  return problems.map((p) => ({ path: at + p.path.slice(1), message: p.message }));
}
