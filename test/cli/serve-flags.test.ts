// A bad value given as a flag is reported by the flag's name, not the variable it overrides.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const serve = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, "serve", ...args], { encoding: "utf8", env: { ...process.env, ...env } });

test("serve --port 99999 names --port", () => {
  const r = serve(["--port", "99999"]);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("--port: must be at most 65535");
  expect(r.stderr).not.toContain("VIGIL_PORT");
});

test("VIGIL_PORT=99999 names the variable", () => {
  const r = serve([], { VIGIL_PORT: "99999" });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("VIGIL_PORT: must be at most 65535");
});
