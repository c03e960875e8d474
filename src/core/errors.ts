// Domain errors with a stable kind, and the `{path, message}` problem every validation in
// Vigil reports. The edges decide what a kind means to their callers (http/problem.ts maps
// each kind to one status code); nothing here knows about HTTP.

/** One thing wrong with an input, at a JSON path inside it (`$.rules[1].event.type`). */
export interface Problem {
  path: string;
  message: string;
}

/** What went wrong, in the domain's words. */
export type ErrorKind = "not-found" | "invalid" | "conflict" | "unavailable" | "overloaded";

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
/** A write refused because another server governs the database now (governor/fence.ts). */
export const leaseLost = () => unavailable("this server no longer governs this database: its lease was lost");
/**
 * A database error that may pass (SQLite's codes, as libsql and the writer thread carry them):
 * the file locked by another program past the busy timeout, the disk full, an I/O error, the
 * file made read-only. Nothing was written; the same request may succeed later.
 */
export function isPassingStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    error instanceof Error &&
    typeof code === "string" &&
    /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN)(_|$)/.test(code)
  );
}

/**
 * `error` from a write made after the object's compute was stopped (a DELETE, a new binding):
 * when the database refused it for now, a 503 that says the compute is stopped and the object
 * kept its record (not that nothing changed); any other error as it is.
 */
export function afterStop(error: unknown, id: string, what: string): unknown {
  if (!isPassingStorageError(error)) return error;
  return Object.assign(
    unavailable(
      `the compute of "${id}" was stopped, but the database refused to record the ${what} for now (locked by another program, full, or not writable): the object keeps its record, and its compute stays stopped until reconciliation observes it or its rules wake it; send the same request again`,
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
