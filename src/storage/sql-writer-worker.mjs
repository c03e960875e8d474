// The writer thread of a file database: it owns the connection every write goes through, so
// that the commit of one group of arrivals (and its fsync, synchronous = FULL) runs beside the
// main thread instead of on it. It talks to SQLite through libsql's own synchronous API, with
// every statement prepared once and kept (the hot path's statements come in a few shapes).
// Plain JavaScript: worker threads do not get the TypeScript loader the main thread registers
// (bin/vigil.js).

import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import Database from "libsql";

const path = resolve(workerData.path);
const db = new Database(path, { timeout: 5 });
// Per connection: WAL lets the main thread's reads run beside these writes; FULL makes every
// commit survive power loss before the main thread acknowledges anything.
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = FULL");
db.exec("PRAGMA busy_timeout = 5000");

/** Which file is at `file` now (device and inode), or null when none is. */
function fileAt(file = path) {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/** The file this connection opened. */
const opened = fileAt();

/**
 * The file the path's symbolic links lead to: SQLite names the log and its index after it (a path
 * that is a link to a file on another disk has them beside that file, not beside the link).
 */
const target = realpathSync(path);

/** The write-ahead log, and the one this connection writes to (null until one is known). */
const wal = `${target}-wal`;
let walOpened = fileAt(wal);
/** The log was found removed or replaced: every write is refused from then on. */
let walMoved = false;

/**
 * The log's index, which SQLite maps from the -shm file beside it and locks: the connections
 * that share a database coordinate through it alone. Removed (a clean-up of "stray" files), this
 * connection goes on with the one it mapped, and any other program that opens the path (a second
 * server refused for the lease, a sqlite3 shell) makes a new one, finds no other connection there,
 * copies the log into the file and empties it as it closes: the frames this connection appends
 * after that follow no valid log header, and a start after a kill -9 read none of them, every
 * write acknowledged since then lost. The log itself is whole until then (a start reads it), so
 * nothing is copied: every write is refused from then on, as for a removed log.
 */
const shm = `${target}-shm`;
let shmOpened = fileAt(shm);
let shmMoved = false;
/** What was committed to the removed log is in the main file (walRescued). */
let walRescued = false;
/** The file opened was removed or replaced, and the log has been emptied into it (unmoved). */
let fileRescued = false;

/**
 * SQLite's count of commits by other connections, as this one sees it (PRAGMA data_version: its
 * own commits do not move it), read at the open and after each commit, while the file was the
 * one opened. Moved once the file was replaced: another program opened the file now at the path
 * with the -wal and -shm left there, and committed into that log (unmoved's rescue).
 */
const dataVersionRead = db.prepare("PRAGMA data_version").raw();
const dataVersion = () => dataVersionRead.get()[0];
let versionSeen = dataVersion();

/** A write refused because the file it would go to is no longer the database's (DbMoved). */
class DbMoved extends Error {
  code = "SQLITE_READONLY_DBMOVED";
}

/**
 * The file opened must still be the one at `path`. Removed (or replaced, a copy moved over it),
 * the connection still writes to it, and SQLite says nothing in WAL mode: every write went
 * through and was acknowledged, the lease's renewals too, into a file no one will open again,
 * and a server started meanwhile made a new database there and governed it beside this one.
 * Refused, the writes are 503s, and the lease's renewals fail until it is lost (lease.ts).
 */
function unmoved() {
  if (fileAt() !== opened) {
    // The log at the path is still this connection's, and its frames since the last checkpoint
    // are pages of the file opened, not of the one at the path now: a server that opened the path
    // (a backup restored over the running file) read them over that file, and its close copied
    // them into it, the restore undone. A file moved away lacked them. A checkpoint copies them
    // into the file opened, wherever it is, and empties the log (tried again at each write). Not
    // once another program committed into that log (data_version moved: a server or a shell that
    // opened the file now at the path): its frames are pages of that file, which the checkpoint
    // would copy into this one, and emptying the log would take its commits from it, as the close
    // would (see there). Its reads of this connection's frames are then that program's to mend.
    fileRescued ||= dataVersion() === versionSeen && walRescue();
    throw new DbMoved(
      `the database file ${path} was removed or replaced since this server opened it: nothing written now would be read again; restart the server`,
    );
  }
  walMoved ||= walOpened !== null && fileAt(wal) !== walOpened;
  if (!walMoved) {
    // Looked at after the log: removed with it (`rm vigil.db-*`), refused first, the frames of
    // the removed log were never copied into the file, and a start after a kill -9 lost them.
    shmMoved ||= shmOpened !== null && fileAt(shm) !== shmOpened;
    if (shmMoved)
      throw new DbMoved(
        `the database's -shm index ${shm} was removed or replaced since this server opened it: another program opening the database now would empty its log, and nothing written now would be read again; restart the server`,
      );
    return;
  }
  // The log removed (or another moved to its path): the connection still writes to the one it
  // opened, which a start reads no more. Every write acknowledged since the last checkpoint was
  // in it alone, lost at the next start after a kill -9. A checkpoint copies it into the main
  // file (tried again at each write until it has), and nothing more is written. TRUNCATE: it also
  // resets the log in the -shm index, so that the index names no frame of the removed log.
  walRescued ||= walRescue();
  throw new DbMoved(
    walRescued
      ? `the database's write-ahead log ${wal} was removed or replaced since this server opened it: what was committed before is kept in ${path}, and nothing written now would be read again; restart the server`
      : `the database's write-ahead log ${wal} was removed or replaced since this server opened it, and what was committed to it could not be copied into ${path} yet (tried again at each write): do not stop this server by force`,
  );
}

/**
 * Whether a checkpoint copied every frame of the log this connection opened into the main file.
 * A reader still in a transaction keeps it from emptying the log once it has (busy, the first
 * column): every frame copied (the other two equal) is what counts.
 */
function walRescue() {
  try {
    const [, log, copied] = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").raw().get();
    return log >= 0 && log === copied;
  } catch {
    return false;
  }
}

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

/** A write refused because the lease it was made under is another server's now. */
class LeaseLost extends Error {
  code = "VIGIL_LEASE_LOST";
}

/**
 * The fence in the database: a write made under the lease `{ name, owner }` goes in only if the
 * lease row still names that owner, read inside the transaction (which holds the write lock, so
 * no other server can take the lease between the check and the commit).
 */
function checkLease(lease) {
  const row = statement("SELECT owner FROM lease WHERE name = ?").get([lease.name]);
  if (row?.owner !== lease.owner) throw new LeaseLost(`the lease ${lease.name} is no longer held by ${lease.owner}`);
}

/** Whether the file or the log at the path is not the one this connection opened (unmoved's tests). */
const moved = () =>
  fileAt() !== opened ||
  (walOpened !== null && fileAt(wal) !== walOpened) ||
  (shmOpened !== null && fileAt(shm) !== shmOpened);

/** One transaction: every write's statements (each after its lease check), or none of them. */
function write(writes) {
  unmoved();
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const w of writes) {
      if (w.lease) checkLease(w.lease);
      for (const s of w.statements)
        if (typeof s === "string") statement(s).run([]);
        else statement(s.sql).run(s.args ?? []);
    }
    // Again with the lock held, last before the commit: BEGIN IMMEDIATE may have waited up to the
    // busy timeout for another connection's lock, and a file replaced or removed meanwhile still
    // took the write. Rolled back first: unmoved's checkpoint of a removed log needs no transaction.
    if (moved()) {
      db.exec("ROLLBACK");
      unmoved();
    }
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw e;
  }
  // After the commit and outside its try: a committed write must not be reported failed (a joined
  // group would be written again one by one). A read that fails leaves the old count, which only
  // holds back a later rescue checkpoint (unmoved), never refuses or takes a write.
  try {
    versionSeen = dataVersion();
  } catch {
    // kept as it was
  }
  // A database new to WAL mode has its log (and its index) once the first commit made it.
  walOpened ??= fileAt(wal);
  shmOpened ??= fileAt(shm);
}

/** Writes that arrived while the last commit ran are committed together, up to this many. */
const MAX_JOINED = 64;

/** Transactions committed so far: each reply says which one carried its write. */
let transactions = 0;

function reply(id, error) {
  if (!error) parentPort.postMessage({ id, ok: true, transaction: transactions });
  else
    parentPort.postMessage({
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      code: error?.code,
    });
}

/**
 * Group commit at the disk: the writes that queued up while the previous commit waited for
 * its fsync go in one transaction, in the order they were sent. If that transaction fails,
 * each write is tried again alone, so that one bad write fails alone.
 */
function commitJoined(writes) {
  if (writes.length > 1) {
    let joined = false;
    let refused = null;
    try {
      write(writes);
      joined = true;
    } catch (e) {
      // one by one below, but for a file moved: each would be refused too, after another try at
      // copying a removed log (the busy timeout's 5 s apiece while a reader holds it back)
      if (e instanceof DbMoved) refused = e;
    }
    // Outside the try: once the joined transaction is durable, nothing may write it again.
    if (joined) {
      transactions++;
      for (const w of writes) reply(w.id);
      return;
    }
    if (refused) {
      for (const w of writes) reply(w.id, refused);
      return;
    }
  }
  for (const w of writes) {
    try {
      write([w]);
      transactions++;
      reply(w.id);
    } catch (e) {
      reply(w.id, e);
    }
  }
}

parentPort.postMessage({ ready: true });
parentPort.on("message", (first) => {
  const writes = [];
  let closing = first === "close";
  if (!closing) writes.push(first);
  while (!closing && writes.length < MAX_JOINED) {
    const next = receiveMessageOnPort(parentPort);
    if (!next) break;
    if (next.message === "close") closing = true;
    else writes.push(next.message);
  }
  if (writes.length > 0) commitJoined(writes);
  if (closing) {
    // A clean stop leaves the database whole in its main file: SQLite checkpoints at the close of
    // a file's last connection only, and the store's readers may outlive this one, so the WAL
    // kept every write since the last automatic checkpoint (all of a young database's), and a
    // copy of the main file alone (a backup of a stopped server) read as an empty database.
    // Refused (a reader still in a transaction), the WAL stays, and is read at the next open.
    // Not once another file is at the path: the -wal and -shm this connection uses are the ones
    // at the path by name, which the database now there uses as well when they were left beside
    // it (a file moved over the path alone), and a checkpoint copied its commits into this
    // connection's file, the one no one opens again, then emptied the log: they were lost. (SQLite's
    // own close checks this, and does not checkpoint.)
    // Nor once the -shm index was removed or replaced: another program may have emptied the log and
    // written its own frames there, which this connection's index would copy as its own pages.
    if (fileAt() === opened && !shmMoved && fileAt(shm) === shmOpened)
      try {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // the WAL is kept: nothing is lost
      }
    db.close();
    parentPort.close();
  }
});
