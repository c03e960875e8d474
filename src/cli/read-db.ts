// The database `vigil replay` and `vigil simulate --db` read history from: opened to read only,
// never created or migrated (a server may be running on it).

import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { shownDbUrl } from "../config.ts";
import { isMissing, notAFilePath } from "../dirs.ts";
import type { LibsqlStore } from "../storage/libsql-store.ts";

/** The store, opened to read, or why it cannot be (a sentence naming the URL). */
export async function openToRead(url: string, authToken?: string): Promise<LibsqlStore | string> {
  // Loaded here: a command that reads no database loads no database driver.
  const [{ LibsqlStore, libsqlOptions }, { filePath }] = await Promise.all([
    import("../storage/libsql-store.ts"),
    import("../storage/rows.ts"),
  ]);
  const file = filePath(url);
  if (file !== null && isMissing(file)) return `no database at ${shownDbUrl(url)}`;
  // A directory (or a path through a file): said as `vigil serve` says it.
  const wrong = file === null ? null : notAFilePath(file);
  if (wrong !== null) return wrong;
  // Looked at before opening, which may leave a -wal file of its own beside the database.
  const walLeftBehind = file !== null && walFileMissing(file);
  // Read-only: a WAL database's last connection would otherwise checkpoint it as it closes.
  let store = new LibsqlStore({ ...libsqlOptions(url, authToken), readOnly: true });
  let problem: string | null;
  try {
    problem = await store.openToRead();
  } catch (e) {
    // Not a database at all (SQLITE_NOTADB), or a server that cannot be reached: said by name.
    problem = `cannot be read: ${(e as Error).message}`;
    const code = String((e as { code?: unknown }).code ?? "");
    if (file !== null && /^SQLITE_(READONLY|CANTOPEN)/.test(code) && !writable(dirname(file))) {
      await store.close();
      // SQLite reads a WAL-mode file only with a -shm index beside it, made if missing (a write it
      // calls so): a backup of a stopped server's file alone on a read-only mount or in another
      // user's directory was "attempt to write a readonly database". With no -wal there, the main
      // file holds everything, and no server runs on it (a server keeps its -wal): it is read as
      // it is (an empty -wal, a clean stop's, with no -shm too). A -wal with frames cannot be read
      // without an index: said so.
      if (existsSync(`${file}-shm`) || size(`${file}-wal`) > 0)
        problem = `cannot be read: it is a WAL-mode database, and SQLite reads one with its -wal only through a ${basename(file)}-shm index file it can use, which it cannot make in ${dirname(file)} (not writable): copy the database with its -wal to a directory you can write`;
      else {
        store = new LibsqlStore({ ...libsqlOptions(url, authToken), readOnly: true, immutable: true });
        try {
          problem = await store.openToRead();
        } catch (again) {
          problem = `cannot be read: ${(again as Error).message}`;
        }
      }
    }
  }
  if (problem === null) return store;
  await store.close();
  // A live database in WAL mode holds its recent writes (all of them, for a young one) in its
  // -wal file: a copy of the main file alone reads as an empty database, with no schema.
  if (walLeftBehind && problem.startsWith("not a Vigil database"))
    problem += `; it is a WAL-mode database with no ${basename(file!)}-wal beside it, which holds its latest writes: copy the -wal file with it`;
  return `${shownDbUrl(url)}: ${problem}`;
}

/** Whether the SQLite file's header says WAL mode (bytes 18 and 19 are 2) and no FILE-wal is there. */
function walFileMissing(file: string): boolean {
  const header = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    if (readSync(fd, header, 0, 20, 0) < 20) return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const wal = header.toString("latin1", 0, 16) === "SQLite format 3\0" && header[18] === 2 && header[19] === 2;
  return wal && !existsSync(`${file}-wal`);
}

/** Whether this process may make files in `dir`. */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The size of `file`, 0 when there is none. */
function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
