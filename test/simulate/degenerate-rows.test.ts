// docs/simulate.md, the options, through the real binary: a policy named twice is one row, and
// the table says so (it came a row short without a word); an autostop after 0 is a usage error
// (exit 2, the reason on stderr, nothing on stdout): autostop(PT0S) stopped each object the
// moment it started, a baseline never active.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TRAFFIC = "fixtures/traffic/queue-burst.jsonl";

const simulate = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, "simulate", "--traffic", TRAFFIC, ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test.each([
  [["--policy", "on-demand", "--compare", "on-demand"], ["on-demand"], ["on-demand"]],
  [
    ["--policy", "on-demand", "--compare", "queue-worker,queue-worker", "--compare", "on-demand"],
    ["on-demand", "queue-worker"],
    ["on-demand", "queue-worker"],
  ],
])("vigil simulate %j prints a row a policy and says which were named more than once", (args, rows, twice) => {
  const r = simulate(...args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  const lines = r.stdout.trimEnd().split("\n");
  expect(lines.filter((l) => /^\S+ +\d/.test(l)).map((l) => l.split(" ")[0])).toEqual(rows);
  expect(lines.slice(-twice.length)).toEqual(twice.map((name) => `"${name}" was named more than once: one row.`));
  // --json's rows say it themselves.
  const json = simulate(...args, "--json");
  expect((JSON.parse(json.stdout) as { rows: { name: string }[] }).rows.map((row) => row.name)).toEqual(rows);
});

test.each(["0", "PT0S", "P0D"])("--autostop-after %s is a usage error", (after) => {
  expect(simulate("--policy", "on-demand", "--autostop-after", after)).toEqual({
    code: 2,
    stdout: "",
    stderr: `vigil simulate: --autostop-after must be longer than 0, not "${after}": the baseline would stop each object as soon as it started\n`,
  });
});

test("two policies and an autostop after 1 ms still make three rows", () => {
  const r = simulate("--policy", "on-demand", "--compare", "queue-worker", "--autostop-after", "1", "--json");
  expect(r.code).toBe(0);
  const rows = (JSON.parse(r.stdout) as { rows: { name: string }[] }).rows.map((row) => row.name);
  expect(rows).toEqual(["on-demand", "queue-worker", "autostop(PT0.001S)"]);
});
