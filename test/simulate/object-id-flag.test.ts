// `vigil simulate --db --object` takes ids; one that no object can have (`w/1`) was looked up and
// told `no object "w/1" in the database`, as if the database had lost it. It is now usage, exit
// 2, with the object id rule, as `vigil replay --object` says it.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR } from "../helpers/services.ts";
import { runSimulateCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-sim-object-id-"));
const url = `file:${join(dir, "v.db")}`;

beforeAll(async () => {
  const s = await makeServices({ store: new LibsqlStore({ url }) });
  try {
    await s.governor.putObject("w1", { policy: "on-demand" });
    await s.advance(0);
  } finally {
    await s.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (object: string) => ["--policy", "on-demand", "--rules", RULES_DIR, "--db", url, "--object", object];

test.each(["w/1", "w1,w/1"])("--object %j is usage, the id rule said", async (object) => {
  expect(await runSimulateCli(args(object))).toEqual({
    code: 2,
    stdout: "",
    stderr: `vigil simulate: --object "w/1": object ids are 1-128 characters of A-Z a-z 0-9 . _ : -\n`,
  });
});

test("an id the database holds is simulated", async () => {
  const r = await runSimulateCli(args("w1"));
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toMatch(/^1 object, 0 facts/);
});
