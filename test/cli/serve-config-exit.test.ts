// `vigil serve` exits 2 on invalid configuration and 1 when the server cannot start (its
// --help, docs/cli.md). A malformed VIGIL_TOKENS was found only as the server started, and
// exited 1 with a log line; it is a bad value like any other now.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const serve = (env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--db", ":memory:"], {
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", ...env },
    timeout: 20_000,
  });

test("a malformed VIGIL_MAILBOX_LIMIT is invalid configuration: exit 2 (as documented)", () => {
  const r = serve({ VIGIL_MAILBOX_LIMIT: "lots" });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("VIGIL_MAILBOX_LIMIT");
});

test("a malformed VIGIL_TOKENS is invalid configuration too: exit 2, with the entry named", () => {
  const r = serve({ VIGIL_TOKENS: "ops:short:admin" });
  expect(r.stderr).toBe(
    "vigil serve: invalid configuration:\n  VIGIL_TOKENS entry 1: the token must be at least 16 characters (try: openssl rand -hex 32)\n",
  );
  expect(r.status).toBe(2);
});

test("a database directory the server's user cannot write: exit 1, and the log says so (docs/deploy.md)", async () => {
  // Root may write anywhere: as root the server runs as `nobody` on a directory it does not own;
  // otherwise as this user on a directory made read-only.
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "vigil-unwritable-"));
  chmodSync(dir, root ? 0o755 : 0o555);
  try {
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, VIGIL_DB_URL: `file:${dir}/vigil.db` },
      timeout: 20_000,
      ...(root ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(r.status).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.includes('"cannot start"')) ?? r.stderr;
    expect(line).toMatch(/cannot write the database directory .*vigil-unwritable-.* \(EACCES\)/);
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});
