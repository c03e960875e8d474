// A file: URL whose path is not valid percent-encoding is invalid configuration (it exited 1 with
// "URI malformed"), and vigil replay's message for a database it cannot read shows the URL
// without its authToken (it printed it); nor does vigil serve's for a query parameter whose name
// is `authToken` percent-encoded, which libsql decodes and sends as the token.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, test } from "vitest";
import { shownQuotes } from "../../src/config.ts";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vigil-review-fixes1-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vigil = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DB_URL: "", VIGIL_LOG_LEVEL: "info", ...env },
    timeout: 30_000,
  });

test("--db file: with a malformed percent-escape is invalid configuration: exit 2 naming --db, not 'cannot start'", () => {
  const r = vigil(["serve", "--port", "0", "--rules", RULES, "--db", "file:data/%zz.db"]);
  expect(r.stderr).not.toContain("cannot start");
  expect(r.stderr).toContain("--db");
  expect(r.status).toBe(2);
});

test("vigil replay does not print the authToken of a --db URL it cannot read", () => {
  const candidate = join(dir, "candidate.json");
  writeFileSync(candidate, JSON.stringify({ name: "x" }));
  // cli/read-db.ts openToRead builds its message with the raw URL (replay uses shownDbUrl elsewhere).
  const r = vigil(["replay", "--object", "a", "--db", "libsql://127.0.0.1:1/db?authToken=S3cretTok3n", candidate]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).not.toContain("S3cretTok3n");
});

test("vigil serve does not print an authToken whose name is percent-encoded, which libsql reads as its authToken", () => {
  // `%61%75%74%68%54%6f%6b%65%6e` is `authToken`: libsql sends the value as the token.
  const url = "libsql://127.0.0.1:1?%61%75%74%68%54%6f%6b%65%6e=S3cretTok3n";
  const r = vigil(["serve", "--port", "0", "--rules", RULES, "--db", url]);
  expect(r.stderr).toContain("cannot start");
  expect(r.stderr).toContain("%61%75%74%68%54%6f%6b%65%6e=[redacted]");
  expect(r.stderr).not.toContain("S3cretTok3n");
  expect(r.status).toBe(1);
});

describe("libsql's refusal of VIGIL_DB_URL, as printed (shownQuotes)", () => {
  const refusal = (url: string) => {
    try {
      createClient({ url });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`libsql took ${url}`);
  };

  test.each([
    "libsql//db.example?authToken=SEKRET",
    " libsql://db.example?authToken=SEKRET",
    "lib_sql://db.example?authToken=SEKRET",
    "http://127.0.0.1:9/#SEKRET",
    "http://127.0.0.1:9/#authToken=SEKRET",
    "http://127.0.0.1:9/#authToken=SEK%52ET",
    "libsql://db.example/#authToken=abc%2BSEKRET",
    "libsql://db.example?authToken:SEKRET",
  ])("%j: the token is not shown", (url) => {
    const message = refusal(url);
    expect(message).toMatch(/SEK.?RET/);
    expect(shownQuotes(url, message)).not.toMatch(/SEK.?RET/);
  });

  test("what it quotes that the URL does not hold is kept (the values it supports)", () => {
    const message = refusal("libsql://h?tls=2");
    expect(shownQuotes("libsql://h?tls=2", message)).toBe(message);
  });
});
