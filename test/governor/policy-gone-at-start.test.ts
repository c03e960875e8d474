// A policy file deleted while the server runs keeps its last version serving, until the next
// start: then the policy is not loaded, and the start-up log says which policies objects are
// bound to that are not (with how many), rather than nothing until their facts are refused.
// A real server on a libsql file, started twice.

import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/main.ts";
import { RULES_DIR } from "../helpers/services.ts";

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(dir: string, lines: string[] = []): Promise<RunningServer> {
  const config = loadConfig({
    VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`,
    VIGIL_PORT: "45100",
    VIGIL_HOST: "127.0.0.1",
    VIGIL_RECONCILE_INTERVAL: "off",
    VIGIL_RULES_DIR: join(dir, "rules"),
  });
  const server = await startServer(
    config,
    createLogger("info", (l) => void lines.push(l)),
  );
  servers.push(server);
  return server;
}

test("objects bound to a policy whose file went while the server was down are named at start-up", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-gone-"));
  dirs.push(dir);
  cpSync(RULES_DIR, join(dir, "rules"), { recursive: true });
  const first = await serve(dir);
  for (const id of ["r1", "r2"]) {
    const put = await fetch(`${first.url}/v1/objects/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ policy: "nightly-report" }),
    });
    expect(put.status).toBe(201);
  }
  await servers.pop()!.close();

  rmSync(join(dir, "rules", "nightly-report.json"));
  const lines: string[] = [];
  await serve(dir, lines);
  const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.policy !== undefined);
  expect(warned).toMatchObject([
    {
      level: "warn",
      msg: "objects are bound to a policy that is not loaded: their facts are refused and their timers wait for it",
      policy: "nightly-report",
      objects: 2,
    },
  ]);
});
