// VIGIL_FLY_API_URLS: a value src/config.ts accepts must be one the fly driver accepts; a bad one
// is invalid configuration (exit 2, naming the variable), not "cannot start" naming `apiUrls`,
// and it is refused before anything is made for the database (it made its directory and file).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules", import.meta.url));

const serve = (env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--db", ":memory:", "--rules", RULES], {
    encoding: "utf8",
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_DRIVERS: "", ...env },
    timeout: 30_000,
  });

test.each([
  ["credentials in the URL", "https://user:pass@api.machines.dev"],
  ["a port out of range", "https://api.machines.dev:99999"],
  // No request reaches port 0: refused at start, not at a Fly object's first request.
  ["port 0", "https://api.machines.dev:0"],
])("VIGIL_FLY_API_URLS with %s: exit 2, naming the variable and the ports taken", (_, value) => {
  const r = serve({ VIGIL_FLY_API_URLS: value });
  expect(r.stderr).toContain("VIGIL_FLY_API_URLS");
  expect(r.stderr).toContain("a port from 1 to 65535");
  expect(r.status).toBe(2);
});

test("a VIGIL_FLY_API_URLS the Fly driver refuses is refused before the database's directory is made", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-fly-urls-"));
  try {
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--rules", RULES], {
      encoding: "utf8",
      env: {
        ...process.env,
        VIGIL_TOKENS: "",
        VIGIL_DRIVERS: "",
        VIGIL_DB_URL: `file:${dir}/sub/vigil.db`,
        VIGIL_FLY_API_URLS: "https://api.machines.dev:99999",
      },
      timeout: 30_000,
    });
    expect(r.stderr).toContain("VIGIL_FLY_API_URLS");
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, "sub"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
