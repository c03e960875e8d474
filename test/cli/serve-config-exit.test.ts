// `vigil serve` exits 2 on invalid configuration and 1 when the server cannot start (its
// --help, docs/cli.md). A malformed VIGIL_TOKENS was found only as the server started, and
// exited 1 with a log line; it is a bad value like any other now.

import { spawn, spawnSync } from "node:child_process";
import { createClient } from "@libsql/client";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";

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

test("a server that cannot start with VIGIL_LOG_LEVEL=silent still says why: exit 1 and one line on stderr", () => {
  // The refusal was a log line only, which `silent` drops: the exit 1 came with nothing at all.
  const r = serve({ VIGIL_LOG_LEVEL: "silent", VIGIL_HOST: "0.0.0.0" });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^vigil serve: cannot start: refusing to bind 0\.0\.0\.0 without tokens: .*\n$/);
});

/**
 * `vigil serve` for a user the files' permissions hold for. Root may write anywhere: as root it
 * runs without the capabilities that let it (setpriv), still this checkout's owner (running as
 * `nobody` instead needs a checkout others may read, which a clone in `mktemp -d` is not).
 */
function serveCommand(): [string, string[]] {
  const args = [BIN, "serve", "--port", "0"];
  return process.getuid?.() === 0
    ? ["setpriv", ["--bounding-set=-dac_override,-dac_read_search", "--", process.execPath, ...args]]
    : [process.execPath, args];
}

test("a database directory the server's user cannot write: exit 1, and the log says so (docs/deploy.md)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-unwritable-"));
  chmodSync(dir, 0o555);
  try {
    const [file, args] = serveCommand();
    const r = spawnSync(file, args, {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, VIGIL_DB_URL: `file:${dir}/vigil.db` },
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.includes('"cannot start"')) ?? r.stderr;
    expect(line).toMatch(/cannot write the database directory .*vigil-unwritable-.* \(EACCES\)/);
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a database directory that cannot be made (under /proc): exit 1, and the log says so", () => {
  // Node's recursive mkdir never returns for a directory under /proc: the server hung there,
  // neither serving nor stopped.
  const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0"], {
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: "file:/proc/vigil-nope/data/vigil.db" },
    timeout: 20_000,
  });
  expect(r.status).toBe(1);
  const line = r.stderr.split("\n").find((l) => l.includes('"cannot start"')) ?? r.stderr;
  expect(line).toMatch(/cannot create the database directory \/proc\/vigil-nope\/data \(ENOENT\)/);
});

test("a damaged database file: exit 1, and the line says what SQLite found, without the query's parameters", async () => {
  // A Vigil database whose index of actions by status is overwritten: the migrations read, then
  // recovery's query of the pending actions fails. The line had drizzle's "Failed query: …
  // params: …" alone, without SQLite's reason.
  const dir = mkdtempSync(join(tmpdir(), "vigil-damaged-"));
  try {
    const file = join(dir, "vigil.db");
    const store = new LibsqlStore({ url: `file:${file}` });
    await store.migrate();
    await store.close();
    const db = createClient({ url: `file:${file}` });
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    const pageSize = Number((await db.execute("PRAGMA page_size")).rows[0]![0]);
    const root = Number(
      (await db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'actions_status'")).rows[0]![0],
    );
    db.close();
    const bytes = readFileSync(file);
    bytes.fill(0xff, (root - 1) * pageSize, root * pageSize);
    writeFileSync(file, bytes);
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0"], {
      encoding: "utf8",
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: `file:${file}` },
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.includes('"cannot start"')) ?? r.stderr;
    expect(line).toContain("database disk image is malformed");
    expect(line).not.toContain("params:");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a database file that cannot grow (a file-size limit): exit 1, and one line names the file and what to do", () => {
  // prlimit holds every file the server writes to 64 KiB, short of what the migrations write
  // (the disk full does the same to a write, as SQLITE_FULL; storage/file-failure.test.ts). The
  // line said SQLite's "disk I/O error" alone, or inside drizzle's "Failed query" of a migration.
  const dir = mkdtempSync(join(tmpdir(), "vigil-fsize-"));
  try {
    const r = spawnSync("prlimit", [`--fsize=${64 * 1024}`, "--", process.execPath, BIN, "serve", "--port", "0"], {
      encoding: "utf8",
      env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: `file:${dir}/vigil.db` },
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.includes('"cannot start"')) ?? r.stderr;
    expect(JSON.parse(line).error).toMatch(
      new RegExp(
        `^cannot write the database ${dir}/vigil\\.db \\(SQLITE_IOERR\\w*\\): the disk or its file system failed`,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `vigil serve` on `url` (serveCommand); resolves "listening", or how it ended. */
function startsOn(url: string, home: string): Promise<string> {
  return new Promise((resolve) => {
    const [file, args] = serveCommand();
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VIGIL_DB_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const seen = (b: Buffer) => {
      out += b.toString();
      if (out.includes('"listening"')) child.kill("SIGTERM");
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.once("exit", (code) =>
      resolve(out.includes('"listening"') ? "listening" : `exit ${code}: ${out.trim().split("\n").at(-1)}`),
    );
  });
}

test.each([
  ["file:DIR/vigil.db in a directory it may write", 0o777, (d: string) => `file:${d}/vigil.db`],
  ["file://localhost/DIR/vigil.db (libsql opens DIR/vigil.db)", 0o777, (d: string) => `file://localhost${d}/vigil.db`],
  ["file:///DIR/vigil.db", 0o777, (d: string) => `file://${d}/vigil.db`],
  [
    "a directory it may write and search but not list (0333): SQLite needs no more",
    0o333,
    (d: string) => `file:${d}/vigil.db`,
  ],
])("the server starts on %s, and writes the file named", async (_what, mode, url) => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-dbpath-"));
  chmodSync(dir, mode);
  try {
    expect(await startsOn(url(dir), "/tmp")).toBe("listening");
    chmodSync(dir, 0o755);
    expect(readdirSync(dir)).toContain("vigil.db");
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});
