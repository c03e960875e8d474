// The skeleton `npm run bench:ceiling` measures (bench/ceiling/server.mjs) does the durable work
// it stands for: every fact it acknowledges is already in its database, in the rows of the shape
// it was started with, and a body it refuses writes nothing.

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

async function skeleton(shape: "append" | "row" | "vigil") {
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
  const count = async (table: string) => Number((await db.execute(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);
  return { post, count, db, url: s.url };
}

test("append: each acknowledged fact is a committed row before its reply", async () => {
  const { post, count } = await skeleton("append");
  for (let i = 1; i <= 12; i++) {
    const res = await post(`o${i % 3}`, { facts: { depth: i } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { decision: { outcome: string } }).decision.outcome).toBe("none");
    expect(await count("arrivals")).toBe(i);
  }
  expect(await count("journal")).toBe(0);
});

test("row: an appended row a fact, and the object's row with its merged memory", async () => {
  const { post, count, db } = await skeleton("row");
  for (let i = 1; i <= 6; i++) {
    expect((await post(`o${i % 2}`, { facts: { [`k${i}`]: i } })).status).toBe(200);
    expect(await count("arrivals")).toBe(i);
  }
  const rows = await db.execute("SELECT id, memory FROM objects ORDER BY id");
  expect(rows.rows.map((r) => [r.id, JSON.parse(r.memory as string)])).toEqual([
    ["o0", { k2: 2, k4: 4, k6: 6 }],
    ["o1", { k1: 1, k3: 3, k5: 5 }],
  ]);
  expect(await count("journal")).toBe(0);
});

test("vigil's shape: a journal entry and a decision a fact, the object's row with its merged memory", async () => {
  const { post, count, db } = await skeleton("vigil");
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

test("a body without facts is refused and writes nothing; another route is a 404", async () => {
  const { post, count, url } = await skeleton("vigil");
  expect((await post("o1", { fact: {} })).status).toBe(400);
  expect((await fetch(`${url}/v1/objects/o1`)).status).toBe(404);
  expect((await post("o1", { facts: [1] })).status).toBe(400);
  expect(await count("journal")).toBe(0);
  expect(await count("objects")).toBe(0);
});
