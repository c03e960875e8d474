// /readyz while the database refuses writes names the latest refusal: a database file removed
// (SQLITE_READONLY_DBMOVED) after the disk was full was still told as SQLITE_FULL, the first
// refusal's code, with the words for a full disk, until a commit went through.

import { afterEach, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { WriteError } from "../../src/storage/sql-writer.ts";
import { makeServices, START, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

test("a refusal of another kind after the first is the one /readyz reports, with its code, its time and its words", async () => {
  const s = await makeServices();
  open.push(s);
  const app = createApp({ governor: s.governor, policies: s.policies, whatIf: s.whatIf, tokens: [] });
  await s.governor.putObject("w1", { policy: "queue-worker" });
  type Writes = Record<"commit" | "probeWrite", (...args: unknown[]) => Promise<unknown>>;
  const store = s.store as unknown as Writes;
  const refuse = (message: string, code: string) => {
    const refused = () => Promise.reject(new WriteError(message, code));
    Object.assign(store, { commit: refused, probeWrite: refused });
  };
  const readyz = async () => {
    const res = await app.request("/readyz");
    return { status: res.status, detail: ((await res.json()) as { detail: string }).detail };
  };
  refuse("database or disk is full", "SQLITE_FULL");
  await expect(s.governor.postFacts("w1", { queue: { depth: 1 } })).rejects.toThrow("full");
  expect(await readyz()).toEqual({
    status: 503,
    detail: `not ready: the database refuses writes (SQLITE_FULL since ${new Date(START).toISOString()}; a full disk, a file made read-only or removed, another program holding its lock): nothing can be committed`,
  });
  // The file is removed: every write is refused for that from now on.
  await s.advance(5000);
  refuse("attempt to write a readonly database", "SQLITE_READONLY_DBMOVED");
  await expect(s.governor.postFacts("w1", { queue: { depth: 2 } })).rejects.toThrow("readonly");
  const moved = await readyz();
  expect(moved.status).toBe(503);
  expect(moved.detail).toBe(
    `not ready: the database refuses writes (SQLITE_READONLY_DBMOVED since ${new Date(START + 5000).toISOString()}; its file was removed or replaced since this server opened it (the database file, its -wal log or its -shm index), and nothing written now would be read again: the server stops once its lease runs out, and opens the file now at the path when started again): nothing can be committed`,
  );
  // The same refusal again keeps its time.
  await s.advance(5000);
  await expect(s.governor.postFacts("w1", { queue: { depth: 3 } })).rejects.toThrow("readonly");
  expect(await readyz()).toEqual(moved);
});
