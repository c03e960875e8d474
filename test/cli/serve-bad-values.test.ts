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
    "VIGIL_FLY_API_URLS: a comma-separated list of http(s) base URLs (scheme and host, perhaps a port from 1 to 65535; no path, no credentials), at least one",
  ],
  // A port or a scheme in VIGIL_HOST: exit 1 after recovery (listen's ENOTFOUND) with tokens, and
  // "refusing to bind ... without tokens" for a loopback name without them.
  ...["localhost:8080", "0.0.0.0:8080", "http://localhost", "[::1]:8080", "[]", "local host"].map(
    (host) =>
      [
        "VIGIL_HOST",
        host,
        "VIGIL_HOST: an IP address (IPv6 with or without brackets) or a host name, without a scheme or a port (the port is VIGIL_PORT)",
      ] as [string, string, string],
  ),
])("%s=%s: exit 2, one line naming the variable", (variable, value, line) => {
  const r = serve([], { [variable]: value });
  expect(r.stderr).toContain(`vigil serve: invalid configuration:\n  ${line}\n`);
  expect(r.status).toBe(2);
});

test("run where the default rules/ is not (VIGIL_RULES_DIR unset), it names the working directory it read", () => {
  // A new user's `npx vigil serve` from another directory than the repository's root was told
  // only `VIGIL_RULES_DIR: rules does not exist`, a variable they had not set.
  const r = spawnSync(process.execPath, [BIN, "serve"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: ":memory:", VIGIL_RULES_DIR: "" },
    timeout: 30_000,
  });
  expect(r.stderr).toContain(
    `vigil serve: invalid configuration:\n  VIGIL_RULES_DIR: rules does not exist (a relative path, read from the working directory ${dir})\n`,
  );
  expect(r.status).toBe(2);
});

test("given as a flag, the same bad value names the flag", () => {
  const r = serve(["--rules", "/etc/passwd"], {});
  expect(r.stderr).toContain("  --rules: /etc/passwd is not a directory\n");
  expect(r.status).toBe(2);
});

test("with tokens, a port in VIGIL_HOST is refused before the database is opened, the flag named", () => {
  const db = join(dir, "host-with-port.db");
  const r = serve(["--host", "0.0.0.0:8080"], {
    VIGIL_TOKENS: "ops:0123456789abcdef-ops:admin",
    VIGIL_DB_URL: `file:${db}`,
  });
  expect(r.stderr).toContain("  --host: an IP address (IPv6 with or without brackets) or a host name");
  expect(r.status).toBe(2);
  expect(existsSync(db)).toBe(false);
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

// A URL libsql refuses for a parameter or a fragment is refused before its directory is made: the
// client read the URL only when it opened, after prepareDatabase had created the directory.
test.each(["?mode=ro", "#frag"])("file:…/new/a.db%s: exit 2, and no directory made for it", (suffix) => {
  const parent = join(dir, `refused-${suffix.slice(1)}`);
  const r = serve([], { VIGIL_DB_URL: `file:${parent}/a.db${suffix}` });
  expect(r.stderr).toContain("vigil serve: invalid configuration:\n  VIGIL_DB_URL: ");
  expect(r.status).toBe(2);
  expect(existsSync(parent)).toBe(false);
});
