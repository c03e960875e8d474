// `vigil schema --write` writes schemas/policy.schema.json under the directory it runs in. Run
// anywhere else (a subdirectory of the repository, another project), it said `vigil schema:
// schemas/policy.schema.json: no such file or directory`, as if the file it was to make had to
// exist already; it says which directory is missing and where to run it.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([[[]], [["--json"]]])("schema --write %j where there is no schemas/ says so, exit 2", (extra) => {
  const r = spawnSync(process.execPath, [BIN, "schema", "--write", ...extra], { cwd: dir, encoding: "utf8" });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(
    "vigil schema: cannot write schemas/policy.schema.json: there is no directory schemas here (run it at the repository's root, as `npm run schemas` does)\n",
  );
  expect(existsSync(join(dir, "schemas"))).toBe(false);
});
