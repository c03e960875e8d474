// Why a database file could not be written at start-up, in words an operator acts on. SQLite's
// own ("database or disk is full", "disk I/O error") name neither the file nor what to do, and
// drizzle wraps them in the query that failed (a migration's CREATE TABLE, over several lines).

/** The SQLite codes a file's failure carries, each with what it means and what to do. */
const FAILURES: [RegExp, string][] = [
  [
    /^SQLITE_FULL/,
    "the disk is full: free space on its file system (the file and its -wal grow there), or set VIGIL_DB_URL to a file on another disk",
  ],
  [
    /^SQLITE_IOERR/,
    "the disk or its file system failed a read or a write (a full disk, a file-size limit such as ulimit -f, a failing device): see the kernel's log",
  ],
  [/^SQLITE_READONLY/, "the file or its file system is read-only: it must be writable by this server's user"],
  [/^SQLITE_CANTOPEN/, "it could not be opened: its directory and file must be writable by this server's user"],
  [
    /^SQLITE_(BUSY|LOCKED)/,
    "another program held it locked past the busy timeout (a sqlite3 shell in a write transaction, say): end that and start again",
  ],
];

/**
 * The failure for start-up's error `e` on the database file at `path`, or null when `e` is not
 * one of the file's own (a damaged file, a bug). The SQLite code is looked for down the causes:
 * libsql's error carries it, drizzle's wrapper of it and the writer thread's WriteError too.
 */
export function fileFailure(e: unknown, path: string): string | null {
  for (let cause = e, n = 0; cause !== null && typeof cause === "object" && n < 6; n++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) {
      const words = FAILURES.find(([pattern]) => pattern.test(code))?.[1];
      return words === undefined ? null : `cannot write the database ${path} (${code}): ${words}`;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}
