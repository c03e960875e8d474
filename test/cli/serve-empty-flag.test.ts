// `vigil serve --port ""`: an empty flag value was passed over, and the environment's value (or
// the default) used in silence. It is a usage error naming the flag, as other bad flag values are.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

test.each(["host", "port", "db", "rules"])("an empty --%s is a usage error naming the flag: exit 2", (flag) => {
  const r = spawnSync(process.execPath, [BIN, "serve", `--${flag}`, ""], {
    encoding: "utf8",
    // Values the server would start with, were the empty flag passed over.
    env: { ...process.env, VIGIL_TOKENS: "", VIGIL_PORT: "0", VIGIL_DB_URL: ":memory:" },
    timeout: 30_000,
  });
  expect(r.stderr).toMatch(new RegExp(`^vigil serve: invalid configuration:\\n  --${flag}: must not be empty`));
  expect(r.status).toBe(2);
});
