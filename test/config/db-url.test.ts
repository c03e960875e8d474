// VIGIL_DB_URL / --db as README "Configuration" describes them: validated at start, a bad value
// names the variable (or flag) and `vigil serve` exits 2; `file:PATH` creates the directory;
// logs show the URL without credentials.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-review-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const serve = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--rules", RULES, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: "", VIGIL_LOG_LEVEL: "info", ...env },
    timeout: 30_000,
  });

test("--db with a plain path (not a libsql URL) is invalid configuration: exit 2, naming --db", () => {
  const r = serve(["--db", "data/vigil.db"], {});
  expect(r.stderr).toContain("--db");
  expect(r.status).toBe(2);
});

test("VIGIL_DB_URL with a scheme libsql does not serve is invalid configuration: exit 2, naming it", () => {
  const r = serve([], { VIGIL_DB_URL: "postgres://db.example.io/vigil" });
  expect(r.stderr).toContain("VIGIL_DB_URL");
  expect(r.status).toBe(2);
});

test("file:~/PATH is invalid configuration: exit 2, naming VIGIL_DB_URL, and no directory named ~ is made", () => {
  // From a unit or env file nothing expands ~: libsql took it as a relative path.
  const r = serve([], { VIGIL_DB_URL: "file:~/vigil.db" });
  expect(r.stderr).toContain("VIGIL_DB_URL: ~/vigil.db starts with ~, which is not expanded here");
  expect(r.status).toBe(2);
  expect(existsSync(join(dir, "~"))).toBe(false);
});

test("file:~USER/PATH is invalid configuration too: exit 2, naming VIGIL_DB_URL, and no directory named ~USER is made", () => {
  // A shell expands ~vigil to vigil's home directory; a unit or env file does not.
  const r = serve([], { VIGIL_DB_URL: "file:~vigil/vigil.db" });
  expect(r.stderr).toContain("VIGIL_DB_URL: ~vigil/vigil.db starts with ~, which is not expanded here");
  expect(r.stderr).toContain("the home directory of vigil");
  expect(r.status).toBe(2);
  expect(existsSync(join(dir, "~vigil"))).toBe(false);
});

test("a remote URL's password never reaches the log, even when the server cannot start", () => {
  const r = serve([], { VIGIL_DB_URL: "libsql://vigil:S3cretPassw0rd@127.0.0.1:1/db" });
  expect(r.status).not.toBe(0);
  expect(r.stderr).not.toContain("S3cretPassw0rd");
});

test("file:PATH with a percent-encoded directory name: the directory is created and the server starts", async () => {
  // libsql (and the writer thread, rows.ts filePath) decode the path: "my dir/vigil.db".
  const url = `file:${dir}/my%20dir/vigil.db`;
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--rules", RULES, "--db", url], {
    cwd: dir,
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_LOG_LEVEL: "warn" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b) => (stdout += String(b)));
  child.stderr.on("data", (b) => (stderr += String(b)));
  const outcome = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), 30_000);
    child.stdout.on("data", () => {
      if (stdout.includes("vigil listening on")) {
        clearTimeout(timer);
        resolve("listening");
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(`exited ${code}: ${stderr}`);
    });
  });
  if (child.exitCode === null) {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  expect(outcome).toBe("listening");
  expect(existsSync(join(dir, "my dir", "vigil.db"))).toBe(true);
});
