// `--policy NAME` not in the rules directory: exit 2, with the errors of the refused file named
// exactly `NAME.json` (as the registry matches a refusal to its policy), never those of another
// file whose name merely ends so (`my-worker.json` for `worker`).

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runSimulateCli } from "./run-cli.ts";
import { RULES_DIR } from "../helpers/services.ts";

const root = mkdtempSync(join(tmpdir(), "vigil-simulate-refused-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const traffic = join(root, "t.jsonl");
writeFileSync(traffic, '{"at":"2026-03-02T00:00:00Z","objectId":"w","facts":{"queue":{"depth":1}}}\n');

/** A rules directory with a valid on-demand.json and a policy file refused for its rule's event type. */
function rulesWithRefused(file: string): string {
  const dir = join(root, file.replace(/\W/g, "_"));
  mkdirSync(dir);
  copyFileSync(join(RULES_DIR, "on-demand.json"), join(dir, "on-demand.json"));
  const policy = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8"));
  policy.name = file.replace(/\.json$/, "");
  policy.rules[0].event.type = "explode";
  writeFileSync(join(dir, file), JSON.stringify(policy));
  return dir;
}

const run = runSimulateCli;

test("another policy's refused file whose name ends in NAME.json is not reported as NAME's", async () => {
  const dir = rulesWithRefused("my-worker.json");
  const r = await run(["--rules", dir, "--policy", "worker", "--traffic", traffic]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(
    `vigil simulate: no policy "worker" in ${dir} (there: on-demand; the policy directory, from --rules)\n`,
  );
  expect(r.stderr).not.toContain("my-worker.json");
});

test("the refused NAME.json itself is reported with its errors", async () => {
  const dir = rulesWithRefused("worker.json");
  const r = await run(["--rules", dir, "--policy", "worker", "--traffic", traffic]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(
    /^vigil simulate: no policy "worker" in .* \(there: on-demand; the policy directory, from --rules\)\n {2}/,
  );
  expect(r.stderr).toContain(`${join(dir, "worker.json")} $.rules[0].event.type: `);
});
