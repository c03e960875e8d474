// Retention past an object whose history the database refuses to write (a full disk, a
// corrupt page): that object waits for the next run, and every other object is pruned as usual.
// The refusals are SQLite triggers on the real store, each for one object.

import { afterEach, expect, test } from "vitest";
import { Retention, type RetentionPolicy } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const keepAll: RetentionPolicy = { journalMs: null, decisionsMs: null, decisionsPerObject: null, idempotencyMs: null };

/** Objects a and b, each with a day of facts (an idempotency key among them), then two days on. */
async function history(): Promise<{ store: LibsqlStore; services: TestServices }> {
  const store = new LibsqlStore({ url: ":memory:" });
  s = await makeServices({ store });
  for (const id of ["a", "b"]) await s.governor.putObject(id, { policy: "queue-worker" });
  for (let i = 1; i <= 12; i++) {
    for (const id of ["a", "b"]) await s.governor.postFacts(id, { n: i }, i === 1 ? `${id}-key` : undefined);
    await s.advance(HOUR);
  }
  await s.advance(2 * DAY);
  return { store, services: s };
}

const count = async (store: LibsqlStore, sql: string) => Number((await store.client.execute(sql)).rows[0]![0]);
const decisionsOf = (store: LibsqlStore, id: string) =>
  count(store, `SELECT COUNT(*) FROM decisions WHERE object_id = '${id}'`);

test.each([
  ["folding its journal (by age)", "BEFORE DELETE ON journal", { journalMs: HOUR, decisionsMs: HOUR }],
  ["deleting its decisions (by age)", "BEFORE DELETE ON decisions", { decisionsMs: HOUR }],
  ["deleting its decisions (by count)", "BEFORE DELETE ON decisions", { decisionsPerObject: 2 }],
  ["folding its journal (by count)", "BEFORE DELETE ON journal", { journalMs: HOUR, decisionsPerObject: 2 }],
] as const)(
  "a refused write %s passes that object over; the others are pruned, and one error names it",
  async (_name, on, policy) => {
    const { store, services } = await history();
    const before = await decisionsOf(store, "a");
    await store.client.execute(
      `CREATE TRIGGER refuse ${on} WHEN OLD.object_id = 'a' BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    );
    const errors: string[] = [];
    const r = new Retention(store, services.clock, { ...keepAll, ...policy, idempotencyMs: HOUR }, (e) =>
      errors.push(e.message),
    );
    await r.runOnce();
    expect(await decisionsOf(store, "a")).toBe(before);
    expect(await decisionsOf(store, "b")).toBe("decisionsPerObject" in policy ? 2 : 0);
    expect(await count(store, "SELECT COUNT(*) FROM idempotency")).toBe(0);
    expect(errors).toEqual([expect.stringMatching(/passed over 1 object\(s\) .*\(a\): .*injected/)]);

    // The write goes through again: the next run prunes the object it passed over.
    await store.client.execute("DROP TRIGGER refuse");
    await r.runOnce();
    expect(await decisionsOf(store, "a")).toBe("decisionsPerObject" in policy ? 2 : 0);
    expect(errors).toHaveLength(1);
  },
);
