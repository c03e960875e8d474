// A policy whose file is gone serves, at start, the version stored in the database; one that this
// Vigil's validation refuses (an older Vigil took it: later releases refuse more) is not loaded.
// The start-up log says why, with the stored version and the refusal, and its objects' 503 does
// not say that no version of it is stored. A real server on a libsql file, started twice.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { expect, test } from "vitest";
import { rulesServers } from "../helpers/rules-servers.ts";

const { workDir, serve, closeLast } = rulesServers("vigil-stored-refused-");

test("a stored version this Vigil refuses is named at start-up with why, and the 503 does not deny it is stored", async () => {
  const dir = workDir();
  const first = await serve(dir);
  const put = await fetch(`${first.url}/v1/objects/r1`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy: "nightly-report" }),
  });
  expect(put.status).toBe(201);
  await closeLast();
  rmSync(join(dir, "rules", "nightly-report.json"));
  // As an older Vigil stored it: a condition validation now refuses (changed's length is a number).
  const client = createClient({ url: `file:${join(dir, "vigil.db")}` });
  const refused = { fact: "changed", path: "$.length", operator: "swap:in", value: "x" };
  for (const table of ["policy_versions", "policy_served"]) {
    const column = table === "policy_versions" ? "name" : "policy";
    const rows = await client.execute(`SELECT document FROM ${table} WHERE ${column} = 'nightly-report'`);
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const row of rows.rows) {
      const doc = JSON.parse(String(row.document)) as { rules: { conditions: { all: unknown[] } }[] };
      doc.rules[0]!.conditions.all.push(refused);
      await client.execute({
        sql: `UPDATE ${table} SET document = ? WHERE ${column} = 'nightly-report'`,
        args: [JSON.stringify(doc)],
      });
    }
  }
  client.close();

  const lines: string[] = [];
  const server = await serve(dir, lines);
  const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.objects !== undefined);
  expect(warnings).toEqual([
    expect.objectContaining({
      level: "warn",
      msg: "objects are bound to a policy that is not loaded: their facts are refused (503) and their timers wait for it",
      policy: "nightly-report",
      objects: 1,
      stored: "nightly-report@2",
      refused: expect.stringContaining("the fact changed at $.length, which is always a number"),
    }),
  ]);
  const post = await fetch(`${server.url}/v1/objects/r1/facts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ facts: { report: { requested: true } } }),
  });
  expect(post.status).toBe(503);
  const problem = (await post.json()) as { detail: string };
  expect(problem.detail).toContain('policy "nightly-report" is not loaded');
  expect(problem.detail).not.toContain("no version of it is stored");
});
