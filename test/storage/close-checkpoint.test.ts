// A store closed cleanly (a server's SIGTERM) leaves the database whole in its main file: a copy
// of that file alone, as a backup of a stopped server takes it, holds every committed write.

import Database from "libsql";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { arrivalBatch, makeObject } from "../helpers/records.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-close-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("after close, the main file alone holds the committed objects; the WAL is emptied", async () => {
  const file = join(dir, "vigil.db");
  const store = new LibsqlStore({ url: `file:${file}` });
  await store.migrate();
  await store.commit([arrivalBatch(makeObject({ id: "w1", memoryVersion: 1 }), "dec_w1_1")]);
  // Read through the store's own connection too, as a running server does.
  expect((await store.getObject("w1"))?.id).toBe("w1");
  await store.close();

  const walBytes = (() => {
    try {
      return statSync(`${file}-wal`).size;
    } catch {
      return 0;
    }
  })();
  expect(walBytes).toBe(0);
  const copy = join(dir, "copy.db");
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    expect(db.prepare("SELECT id FROM objects").all()).toEqual([{ id: "w1" }]);
  } finally {
    db.close();
  }
});
