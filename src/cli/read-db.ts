// The database `vigil replay` and `vigil simulate --db` read history from: opened to read only,
// never created or migrated (a server may be running on it).

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
  const store = new LibsqlStore(libsqlOptions(url, authToken));
  let problem: string | null;
  try {
    problem = await store.openToRead();
  } catch (e) {
    // Not a database at all (SQLITE_NOTADB), or a server that cannot be reached: said by name.
    problem = `cannot be read: ${(e as Error).message}`;
  }
  if (problem === null) return store;
  await store.close();
  return `${shownDbUrl(url)}: ${problem}`;
}
