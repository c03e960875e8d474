// `vigil serve` exits 2 on invalid configuration and 1 when the server cannot start (its
// --help, docs/cli.md). A malformed VIGIL_TOKENS was found only as the server started, and
// exited 1 with a log line; it is a bad value like any other now.

import { spawnSync } from "node:child_process";
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
