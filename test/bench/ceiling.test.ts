// The skeleton `npm run bench:ceiling` measures (bench/ceiling/server.mjs) does the durable work
// it stands for: its writer commits in WAL mode with synchronous = FULL, every fact it
// acknowledges is already in its database, in the rows of the shape it was started with, and a
// body it refuses writes nothing.

import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { start } from "../../bench/facts.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function skeleton(shape: "append" | "row" | "vigil" | "tree") {
  const dir = mkdtempSync(join(tmpdir(), "vigil-ceiling-test-"));
  const path = join(dir, "s.db");
  const s = await start(["bench/ceiling/server.mjs"], { CEILING_SHAPE: shape, CEILING_DB: path });
  const db = createClient({ url: `file:${path}` });
  cleanups.push(() => {
    db.close();
    s.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (object: string, body: unknown) =>
    fetch(`${s.url}/v1/objects/${object}/facts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const put = async (object: string) =>
    (await fetch(`${s.url}/v1/objects/${object}`, { method: "PUT", body: JSON.stringify({ policy: "p" }) })).status;
  const count = async (table: string) => Number((await db.execute(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);
  return { post, put, count, db, url: s.url };
}

const shapes = ["append", "row", "vigil", "tree"] as const;

test.each(shapes)("%s: the writer commits in WAL mode with synchronous = FULL", async (shape) => {
  const { url } = await skeleton(shape);
  expect(await (await fetch(`${url}/writer`)).json()).toEqual({ journal_mode: "wal", synchronous: 2, together: 0 });
});

test("append: each acknowledged fact is a committed row before its reply", async () => {
  const { post, put, count } = await skeleton("append");
  for (const o of ["o0", "o1", "o2"]) expect(await put(o)).toBe(201);
  for (let i = 1; i <= 12; i++) {
    const res = await post(`o${i % 3}`, { facts: { depth: i } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { decision: { outcome: string } }).decision.outcome).toBe("none");
    expect(await count("arrivals")).toBe(i);
  }
  expect(await count("objects")).toBe(0);
});

test("row: an appended row a fact, and the object's row (made by its PUT) with its merged memory", async () => {
  const { post, put, count, db } = await skeleton("row");
  for (const o of ["o0", "o1"]) expect(await put(o)).toBe(201);
  expect(await count("objects")).toBe(2);
  for (let i = 1; i <= 6; i++) {
    expect((await post(`o${i % 2}`, { facts: { [`k${i}`]: i } })).status).toBe(200);
    expect(await count("arrivals")).toBe(i);
  }
  const rows = await db.execute("SELECT id, memory, memory_version, state FROM objects ORDER BY id");
  expect(rows.rows.map((r) => [r.id, JSON.parse(r.memory as string), r.memory_version, r.state])).toEqual([
    ["o0", { k2: 2, k4: 4, k6: 6 }, 3, "dormant"],
    ["o1", { k1: 1, k3: 3, k5: 5 }, 3, "dormant"],
  ]);
  expect(await count("journal")).toBe(0);
});

test("vigil's shape: a journal entry and a decision a fact, the object's row with its merged memory", async () => {
  const { post, put, count, db } = await skeleton("vigil");
  for (const o of ["o0", "o1", "o2"]) expect(await put(o)).toBe(201);
  for (let i = 1; i <= 9; i++) {
    expect((await post(`o${i % 3}`, { facts: { [`k${i}`]: i } })).status).toBe(200);
    expect(await count("journal")).toBe(i);
    expect(await count("decisions")).toBe(i);
  }
  expect(await count("objects")).toBe(3);
  const memory = (await db.execute("SELECT memory FROM objects WHERE id = 'o1'")).rows[0]!.memory as string;
  expect(JSON.parse(memory)).toEqual({ k1: 1, k4: 4, k7: 7 });
  expect(await count("arrivals")).toBe(0);
});

test("the one-tree candidate: an entry with its decision a fact under (object, seq), the decision's id indexed, the object's row", async () => {
  const { post, put, count, db } = await skeleton("tree");
  for (const o of ["o0", "o1"]) expect(await put(o)).toBe(201);
  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const res = await post(`o${i % 2}`, { facts: { [`k${i}`]: i } });
    expect(res.status).toBe(200);
    ids.push(((await res.json()) as { decision: { id: string } }).decision.id);
    expect(await count("history")).toBe(i);
    expect(await count("decision_ids")).toBe(i);
  }
  const rows = await db.execute("SELECT object_id, seq, patch, decision_id FROM history ORDER BY object_id, seq");
  expect(rows.rows.map((r) => [r.object_id, r.seq, JSON.parse(r.patch as string)])).toEqual([
    ["o0", 1, { k2: 2 }],
    ["o0", 2, { k4: 4 }],
    ["o0", 3, { k6: 6 }],
    ["o1", 1, { k1: 1 }],
    ["o1", 2, { k3: 3 }],
    ["o1", 3, { k5: 5 }],
  ]);
  // Each acknowledged decision's id leads to its row.
  const found = await db.execute(
    `SELECT d.id FROM decision_ids d JOIN history h USING (object_id, seq) WHERE h.decision_id = d.id`,
  );
  expect(found.rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  const memory = (await db.execute("SELECT memory FROM objects WHERE id = 'o1'")).rows[0]!.memory as string;
  expect(JSON.parse(memory)).toEqual({ k1: 1, k3: 3, k5: 5 });
  expect(await count("journal")).toBe(0);
  expect(await count("decisions")).toBe(0);
});

test("an object's facts sent at once are taken one at a time: each its own entry, in order", async () => {
  const { post, put, db, url } = await skeleton("vigil");
  expect(await put("o1")).toBe(201);
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => post("o1", { facts: { [`k${i}`]: i } })));
  expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200));
  const journal = await db.execute("SELECT seq, patch FROM journal WHERE object_id = 'o1' ORDER BY seq");
  expect(journal.rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  const object = (await db.execute("SELECT memory, memory_version FROM objects WHERE id = 'o1'")).rows[0]!;
  expect(Object.keys(JSON.parse(object.memory as string))).toHaveLength(8);
  expect(object.memory_version).toBe(8);
  // Each fact in a transaction of its own, after the one before it committed.
  expect(((await (await fetch(`${url}/writer`)).json()) as { together: number }).together).toBe(1);
});

test("a body without facts is refused and writes nothing; a fact to an object never PUT is a 404", async () => {
  const { post, put, count, url } = await skeleton("vigil");
  expect(await put("o1")).toBe(201);
  expect((await post("o1", { fact: {} })).status).toBe(400);
  expect((await post("o1", { facts: [1] })).status).toBe(400);
  expect((await post("o2", { facts: { a: 1 } })).status).toBe(404);
  expect((await fetch(`${url}/v1/objects/o1`)).status).toBe(404);
  expect(await count("journal")).toBe(0);
  expect(await count("decisions")).toBe(0);
});
