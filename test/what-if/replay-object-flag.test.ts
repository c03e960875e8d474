// `vigil replay --object` names one object. A list (`a,b`, as `vigil simulate --object` takes)
// or a text that is no object id was looked up as it was and told `no object "a,b" in DB`, as
// if the database had lost an object it holds; it is now usage, said as such, exit 2.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { captureBoth } from "../cli/harness.ts";
import { makeServices } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-replay-object-"));
const url = `file:${join(dir, "v.db")}`;

beforeAll(async () => {
  const s = await makeServices({ store: new LibsqlStore({ url }) });
  try {
    for (const id of ["w1", "w2"]) await s.governor.putObject(id, { policy: "queue-worker" });
    await s.advance(0);
  } finally {
    await s.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each(["w1,w2", "w1 w2", "w1, w2"])("--object %j, two objects the database holds, is a list", async (object) => {
  const r = await captureBoth(runReplay, ["--object", object, "--db", url, "rules/queue-worker.json"]);
  expect(r).toMatchObject({
    code: 2,
    out: "",
    err: `vigil replay: --object names one object, not the list "${object}": replay each one on its own\n`,
  });
});

test("an --object that is no object id is told so", async () => {
  const r = await captureBoth(runReplay, ["--object", "w1/x", "--db", url, "rules/queue-worker.json"]);
  expect(r).toMatchObject({
    code: 2,
    out: "",
    err: `vigil replay: --object "w1/x": object ids are 1-128 characters of A-Z a-z 0-9 . _ : -\n`,
  });
});

test("each of the objects replays on its own", async () => {
  for (const id of ["w1", "w2"]) {
    const r = await captureBoth(runReplay, ["--object", id, "--db", url, "rules/queue-worker.json"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(`replay of ${id} under queue-worker@1`);
  }
});
