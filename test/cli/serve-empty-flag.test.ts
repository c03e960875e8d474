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

// `vigil replay --db ""` and `vigil simulate --db ""` read the default database (data/vigil.db
// under the working directory) in silence: a script's `--db "$URL"` with URL unset analysed
// whatever database sat there. Found by a review of the history tools.
test.each([
  ["replay", "--db", ["--object", "w1", "--db", "", "rules/on-demand.json"]],
  ["simulate", "--db", ["--policy", "on-demand", "--object", "w1", "--db", ""]],
  ["simulate", "--rules", ["--policy", "on-demand", "--traffic", "fixtures/traffic/queue-burst.jsonl", "--rules", ""]],
])("vigil %s with an empty %s is a usage error naming the flag: exit 2", (command, flag, args) => {
  const r = spawnSync(process.execPath, [BIN, command, ...args], {
    encoding: "utf8",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { ...process.env, VIGIL_DB_URL: "" },
    timeout: 30_000,
  });
  expect(r.stderr).toMatch(new RegExp(`${flag}: must not be empty`));
  expect(r.stderr).not.toMatch(/data\/vigil\.db|cannot read the policies/);
  expect(r.status).toBe(2);
});
