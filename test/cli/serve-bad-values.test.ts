// README, Configuration: "a bad value stops the server with the variable named", and a bad value
// is exit 2 (invalid usage or configuration). These exited 1 with libsql's or node's own words
// ("Invalid URL", ENOENT scandir, ENOTDIR, ConnectionFailed), the variable not named.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-bad-values-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOT_A_DATABASE = join(dir, "notes.db");
const NOTES = "a text file someone named .db, a page of it: ".repeat(100);
writeFileSync(NOT_A_DATABASE, NOTES);

const serve = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, "serve", ...args], {
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: ":memory:", ...env },
    timeout: 30_000,
  });

test.each([
  ["VIGIL_DB_URL", "libsql://", "VIGIL_DB_URL: libsql:// is not a URL (a remote database needs a host: libsql://HOST)"],
  ["VIGIL_DB_URL", "http://", "VIGIL_DB_URL: http:// is not a URL (a remote database needs a host: libsql://HOST)"],
  ["VIGIL_RULES_DIR", "/nonexistent-vigil-rules", "VIGIL_RULES_DIR: /nonexistent-vigil-rules does not exist"],
  ["VIGIL_RULES_DIR", "/etc/passwd", "VIGIL_RULES_DIR: /etc/passwd is not a directory"],
  [
    "VIGIL_DB_URL",
    `file:${dir}`,
    `VIGIL_DB_URL: ${dir} is a directory; name a database file (in it: file:${dir}/vigil.db)`,
  ],
  [
    "VIGIL_DB_URL",
    `file:${dir}/not-yet/`,
    `VIGIL_DB_URL: ${dir}/not-yet/ is a directory; name a database file (in it: file:${dir}/not-yet/vigil.db)`,
  ],
  ["VIGIL_DB_URL", "file:/etc/passwd/vigil.db", "VIGIL_DB_URL: /etc/passwd/vigil.db: not a directory"],
  [
    "VIGIL_DB_URL",
    `file:${NOT_A_DATABASE}`,
    `VIGIL_DB_URL: file:${NOT_A_DATABASE}: it is not an SQLite database; it was left untouched`,
  ],
  // From a review of the operator docs: an I/O error (and a /dev/null-journal made beside it),
  // exit 1 "cannot start", and a list of no URL taken as an allow-list of none.
  [
    "VIGIL_DB_URL",
    "file:/dev/null",
    "VIGIL_DB_URL: /dev/null is not a regular file (a character device); name a database file",
  ],
  [
    "VIGIL_PROCESS_CGROUP",
    "/tmp",
    "VIGIL_PROCESS_CGROUP: cannot use the cgroup /tmp: /tmp is not in a cgroup v2 hierarchy (no cgroup.freeze) nor in the v1 freezer hierarchy",
  ],
  [
    "VIGIL_FLY_API_URLS",
    ",",
    "VIGIL_FLY_API_URLS: a comma-separated list of http(s) base URLs (scheme and host, no path, no credentials), at least one",
  ],
])("%s=%s: exit 2, one line naming the variable", (variable, value, line) => {
  const r = serve([], { [variable]: value });
  expect(r.stderr).toContain(`vigil serve: invalid configuration:\n  ${line}\n`);
  expect(r.status).toBe(2);
});

test("given as a flag, the same bad value names the flag", () => {
  const r = serve(["--rules", "/etc/passwd"], {});
  expect(r.stderr).toContain("  --rules: /etc/passwd is not a directory\n");
  expect(r.status).toBe(2);
});

test("a directory named with a trailing slash is not made a file, and a file that is no database is left as it was", () => {
  expect(existsSync(join(dir, "not-yet"))).toBe(false);
  expect(readFileSync(NOT_A_DATABASE, "utf8")).toBe(NOTES);
  expect(existsSync(`${NOT_A_DATABASE}-wal`)).toBe(false);
});

test.each(["http://127.0.0.1:9/#SEKRIT", "http://127.0.0.1:9/#authToken=SEKRIT"])(
  "%s: libsql's refusal is printed without the fragment it quotes (a token typed after # for ?)",
  (url) => {
    const r = serve([], { VIGIL_DB_URL: url });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("vigil serve: invalid configuration:\n  VIGIL_DB_URL: ");
    expect(r.stderr).toContain('"[redacted]"');
    expect(r.stderr).not.toContain("SEKRIT");
  },
);
