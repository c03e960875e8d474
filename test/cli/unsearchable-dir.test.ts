// A file in a directory this user may not search is there, and cannot be read: validate, test
// and replay say so, where existsSync had them call it missing ("no such file or directory").

import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-unsearchable-"));
  copyFileSync(join(ROOT, "rules/on-demand.json"), join(dir, "on-demand.json"));
  copyFileSync(join(ROOT, "fixtures/on-demand/freeze-thaw.json"), join(dir, "freeze-thaw.json"));
  copyFileSync(join(ROOT, "rules/on-demand.json"), join(dir, "vigil.db"));
  chmodSync(dir, 0o000);
});
afterAll(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

/** The real binary, as a user the directory's mode holds back (root, without its override of modes). */
function vigil(args: string[]) {
  const command = [BIN, ...args];
  const [file, argv] =
    process.getuid?.() === 0
      ? ["setpriv", ["--bounding-set=-dac_override,-dac_read_search", "--", process.execPath, ...command]]
      : [process.execPath, command];
  const r = spawnSync(file, argv, { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("vigil validate FILE: a policy that cannot be read (exit 1, as documented), not a missing FILE (2)", () => {
  const file = join(dir, "on-demand.json");
  expect(vigil(["validate", file])).toEqual({
    code: 1,
    out: `FAIL  ${file}\n  ${file} $: cannot read the file: permission denied\n0 valid, 1 invalid\n`,
    err: "",
  });
});

test("vigil test PATH: permission denied, not `no such fixture file or directory`", () => {
  const file = join(dir, "freeze-thaw.json");
  expect(vigil(["test", file])).toEqual({ code: 2, out: "", err: `vigil test: ${file}: permission denied\n` });
});

test("vigil replay --db: permission denied, not `no database at`", () => {
  const db = join(dir, "vigil.db");
  expect(vigil(["replay", "--object", "w", "--db", `file:${db}`, "rules/on-demand.json"])).toEqual({
    code: 2,
    out: "",
    err: `vigil replay: ${db}: permission denied\n`,
  });
});
