// Operational failures read as what is wrong and where, never as a raw system error: a missing
// directory, a database that cannot be opened, a missing policy file.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { failureMessage } from "../../src/cli/output.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const vigil = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

describe("through the real binary", () => {
  test.each([
    [["validate", "--rules", "/nonexistent-vigil"], 2, "vigil validate: /nonexistent-vigil: no such file or directory"],
    [["test", "--rules", "/nonexistent-vigil"], 2, "vigil test: /nonexistent-vigil: no such file or directory"],
    [
      ["replay", "--object", "x", "--db", "file:/nonexistent-vigil/x.db", "rules/queue-worker.json"],
      2,
      "vigil replay: no database at file:/nonexistent-vigil/x.db",
    ],
    [["replay", "--object", "x", "rules"], 2, "vigil replay: cannot read rules: a directory, not a file"],
    [["validate", "/nonexistent-vigil.json"], 2, "vigil validate: /nonexistent-vigil.json: no such file or directory"],
    [
      ["validate", "rules"],
      2,
      "vigil validate: rules: a directory, not a policy file (--rules rules checks its files)",
    ],
  ])("%j", (args, code, message) => {
    const r = vigil(...args);
    expect(r.status).toBe(code);
    expect(`${r.stdout}${r.stderr}`).toContain(message);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/ENOENT|scandir|ConnectionFailed/);
  });
});

test("replay's refusals go to stderr as `vigil replay: ...`, even with --json, and stdout stays empty", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-replay-"));
  try {
    // A database file that is not there is refused, and not created.
    const missing = vigil(
      "replay",
      "--object",
      "ghost",
      "--db",
      `file:${join(dir, "typo.db")}`,
      "rules/queue-worker.json",
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`vigil replay: no database at file:${join(dir, "typo.db")}\n`);
    expect(existsSync(join(dir, "typo.db"))).toBe(false);
    // A directory is said to be one, as `vigil serve` says it (not "cannot be written").
    const directory = vigil("replay", "--object", "ghost", "--db", `file:${dir}/`, "rules/queue-worker.json");
    expect(directory.status).toBe(2);
    expect(directory.stderr).toBe(
      `vigil replay: ${dir}/ is a directory; name a database file (in it: file:${join(dir, "vigil.db")})\n`,
    );
    const store = new LibsqlStore({ url: `file:${join(dir, "x.db")}` });
    await store.migrate();
    await store.close();
    const r = vigil(
      "replay",
      "--json",
      "--object",
      "ghost",
      "--db",
      `file:${join(dir, "x.db")}`,
      "rules/queue-worker.json",
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('vigil replay: no object "ghost"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("anything else keeps its own message", () => {
  expect(failureMessage(new Error("the object is unknown"))).toBe("the object is unknown");
});
