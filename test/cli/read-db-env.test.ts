// `vigil replay` and `vigil simulate --db` read a database and nothing else of the server's
// configuration: a shell holding a server's settings that the server would refuse (a drain
// timeout under a second, a token with a line break) does not stop them, while VIGIL_DB_URL
// still counts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { captureBoth } from "./harness.ts";
import { runSimulate } from "../../src/cli/simulate.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-read-db-env-"));
const url = `file:${join(dir, "v.db")}`;
const SET = ["VIGIL_DB_URL", "VIGIL_DRAIN_TIMEOUT", "FLY_API_TOKEN", "VIGIL_PORT"] as const;
const saved = Object.fromEntries(SET.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  const store = new LibsqlStore({ url });
  await store.migrate();
  await store.close();
});
afterEach(() => {
  for (const k of SET) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = captureBoth;

test.each([
  ["vigil replay", ["--object", "w", "--db", url, "rules/queue-worker.json"], runReplay, "replay"],
  ["vigil simulate --db", ["--policy", "queue-worker", "--db", url, "--object", "w"], runSimulate, "simulate"],
] as const)("%s opens the database whatever the server's other variables hold", async (_n, args, command, name) => {
  process.env.VIGIL_DRAIN_TIMEOUT = "PT0S";
  process.env.FLY_API_TOKEN = "a\nb";
  process.env.VIGIL_PORT = "eighty";
  const r = await run(command, [...args]);
  // It reached the database: the object is what is missing there.
  expect(r).toMatchObject({ code: 2, out: "" });
  expect(r.err).toMatch(new RegExp(`^vigil ${name}: .*"w"`));
});

test("vigil replay takes VIGIL_DB_URL when --db is not given", async () => {
  process.env.VIGIL_DB_URL = url;
  process.env.VIGIL_PORT = "eighty";
  const r = await run(runReplay, ["--object", "w", "rules/queue-worker.json"]);
  expect(r).toMatchObject({ code: 2, err: `vigil replay: no object "w" in ${url}\n` });
});
