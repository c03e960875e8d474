// Which errors of the store's libsql client (storage/remote.ts openClient) are a remote
// database not reached (core/errors.ts remoteFailure), from the errors it really throws: against
// a port nothing listens on, a server answering 503 or 401 (the fake Hrana server), and SQLite's
// own error through it; and not a fetch of anyone else's that failed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { isUnreachableDatabase, remoteFailure } from "../../src/core/errors.ts";
import { openClient } from "../../src/storage/remote.ts";
import { startHranaFake, type HranaFake } from "../helpers/hrana-fake.ts";
import { refusingPort } from "../helpers/refusing-port.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-remote-errors-"));
let fake: HranaFake;
beforeAll(async () => {
  fake = await startHranaFake(join(dir, "r.db"), { token: "t" });
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the client throws for `sql` on `url`. */
async function thrown(url: string, sql = "SELECT 1", authToken = "t"): Promise<unknown> {
  const { client } = openClient({ url, authToken });
  try {
    await client.execute(sql);
  } catch (e) {
    return e;
  } finally {
    client.close();
  }
  throw new Error("it did not fail");
}

test("a refused connection, over HTTP and over a WebSocket, may pass", async () => {
  const port = await refusingPort();
  for (const scheme of ["http", "ws"]) {
    const e = await thrown(`${scheme}://127.0.0.1:${port}`);
    expect(remoteFailure(e), String(e)).toEqual({ reason: "refused the connection", passing: true });
  }
});

test("a 503 may pass; a refused token does not", async () => {
  fake.mode = "unavailable";
  try {
    const e = await thrown(fake.url);
    expect(remoteFailure(e)).toEqual({ reason: "answered HTTP 503", passing: true, status: 503 });
    expect(isUnreachableDatabase(e)).toBe(true);
  } finally {
    fake.mode = "ok";
  }
  const refused = await thrown(fake.url, "SELECT 1", "wrong");
  expect(remoteFailure(refused)).toEqual({ reason: "refused the token (HTTP 401)", passing: false, status: 401 });
  expect(isUnreachableDatabase(refused)).toBe(false);
});

test("a fetch of anyone else's (a driver's) that failed is not one", async () => {
  const port = await refusingPort();
  const e = await fetch(`http://127.0.0.1:${port}`).catch((x: unknown) => x);
  expect(String(e)).toContain("fetch failed");
  expect(remoteFailure(e)).toBeNull();
});

test("SQLite's own error, answered by the server, is not one", async () => {
  const e = await thrown(fake.url, "SELECT * FROM no_such_table");
  expect(String(e)).toContain("no such table");
  expect(remoteFailure(e)).toBeNull();
  expect(remoteFailure(new Error("SQLITE_CONSTRAINT"))).toBeNull();
});
