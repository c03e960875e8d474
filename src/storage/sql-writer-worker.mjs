// The writer thread of a file database: it owns the connection every write goes through, so
// that the commit of one group of arrivals (and its fsync, synchronous = FULL) runs beside the
// main thread instead of on it. It talks to SQLite through libsql's own synchronous API, with
// every statement prepared once and kept (the hot path's statements come in a few shapes).
// Plain JavaScript: worker threads do not get the TypeScript loader the main thread registers
// (bin/vigil.js).

import { parentPort, workerData } from "node:worker_threads";
import Database from "libsql";

const db = new Database(workerData.path, { timeout: 5 });
// Per connection: WAL lets the main thread's reads run beside these writes; FULL makes every
// commit survive power loss before the main thread acknowledges anything.
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = FULL");
db.exec("PRAGMA busy_timeout = 5000");

/** Prepared statements by their text; the few hundred shapes the store uses fit easily. */
const prepared = new Map();
function statement(sql) {
  let s = prepared.get(sql);
  if (!s) {
    s = db.prepare(sql);
    if (prepared.size < 2000) prepared.set(sql, s);
  }
  return s;
}

/** One transaction: every statement, or none of them. */
function write(statements) {
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const { sql, args } of statements) statement(sql).run(args ?? []);
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw e;
  }
}

parentPort.postMessage({ ready: true });
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    parentPort.close();
    return;
  }
  const { id, statements } = message;
  try {
    write(JSON.parse(statements));
    parentPort.postMessage({ id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e), code: e?.code });
  }
});
