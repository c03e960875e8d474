// A policy file deleted while the server runs keeps its last version serving, and so does the
// next start, from the version stored in the database; the start-up log names each policy whose
// file is gone, with how many objects. A policy with no stored version (a database older than
// stored versions) is not loaded: the log says so, rather than nothing until its objects' facts
// are refused. A real server on a libsql file, started twice.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { expect, test } from "vitest";
import { rulesServers } from "../helpers/rules-servers.ts";

const { workDir, serve, closeLast } = rulesServers("vigil-gone-");

/** Two nightly-report objects on a first server; then its file deleted. */
async function reportsThenFileGone(dir: string): Promise<void> {
  const first = await serve(dir);
  for (const id of ["r1", "r2"]) {
    const put = await fetch(`${first.url}/v1/objects/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "nightly-report" }),
    });
    expect(put.status).toBe(201);
  }
  await closeLast();
  rmSync(join(dir, "rules", "nightly-report.json"));
}

const warnings = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.objects !== undefined);

test("objects bound to a policy whose file went while the server was down are named at start-up", async () => {
  const dir = workDir();
  await reportsThenFileGone(dir);
  const lines: string[] = [];
  const server = await serve(dir, lines);
  expect(warnings(lines)).toMatchObject([
    {
      level: "warn",
      msg: "objects are bound to a policy whose file is gone: the version stored in the database serves",
      policy: "nightly-report@2",
      objects: 2,
      file: join(dir, "rules", "nightly-report.json"),
    },
  ]);
  expect((await fetch(`${server.url}/v1/policies/nightly-report`)).status).toBe(200);
});

test("objects bound to a policy with no version to serve are named at start-up", async () => {
  const dir = workDir();
  await reportsThenFileGone(dir);
  // As in a database older than stored policy versions.
  const client = createClient({ url: `file:${join(dir, "vigil.db")}` });
  await client.execute("DELETE FROM policy_versions WHERE name = 'nightly-report'");
  await client.execute("DELETE FROM policy_served WHERE policy = 'nightly-report'");
  client.close();
  const lines: string[] = [];
  const server = await serve(dir, lines);
  expect(warnings(lines)).toMatchObject([
    {
      level: "warn",
      msg: "objects are bound to a policy that is not loaded: their facts are refused (503) and their timers wait for it",
      policy: "nightly-report",
      objects: 2,
    },
  ]);
  expect((await fetch(`${server.url}/v1/policies/nightly-report`)).status).toBe(404);

  // Its objects' facts are a 503 to send again (with Retry-After), not a 422 a client drops: the
  // facts route, a CloudEvent, a batch's item and a dry run. A PUT naming it is still a 422.
  const post = (path: string, body: unknown, type = "application/json") =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": type }, body: JSON.stringify(body) });
  const refused = [
    await post("/v1/objects/r1/facts", { facts: { report: { requested: true } } }),
    await post(
      "/v1/cloudevents",
      { specversion: "1.0", id: "e1", source: "/reports", type: "t", subject: "r1", data: { a: 1 } },
      "application/cloudevents+json",
    ),
    await post("/v1/objects/r1/evaluate", {}),
  ];
  for (const r of refused) {
    expect([r.status, r.headers.get("retry-after")]).toEqual([503, "60"]);
    const problem = (await r.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: "https://vigil.dev/problems/unavailable" });
    expect(problem.detail).toContain('policy "nightly-report" is not loaded');
    expect(problem.errors).toBeUndefined();
  }
  const batch = await post("/v1/facts", { items: [{ objectId: "r2", facts: { a: 1 } }] });
  const { results } = (await batch.json()) as { results: { error?: { status: number } }[] };
  expect(results[0]!.error?.status).toBe(503);
  const put = await fetch(`${server.url}/v1/objects/r3`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ policy: "nightly-report" }),
  });
  expect(put.status).toBe(422);
  expect(((await put.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe("$.policy");
});
