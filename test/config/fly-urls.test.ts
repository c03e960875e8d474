// VIGIL_FLY_API_URLS: a value src/config.ts accepts must be one the fly driver accepts; a bad one
// is invalid configuration (exit 2, naming the variable), not "cannot start" naming `apiUrls`.

import { spawnSync } from "node:child_process";
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
])("VIGIL_FLY_API_URLS with %s: exit 2, naming the variable", (_, value) => {
  const r = serve({ VIGIL_FLY_API_URLS: value });
  expect(r.stderr).toContain("VIGIL_FLY_API_URLS");
  expect(r.status).toBe(2);
});
