// `vigil validate FILE` on a file the server would pass over: the server loads only NAME.json,
// not hidden. A review found `p.txt` holding `"name": "p.txt"` (as the first error asked:
// "expected \"p.txt\"") called valid, though no server would ever load it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runValidate } from "../../src/cli/validate.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { capture } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-validate-name-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = (name: string) =>
  JSON.stringify({
    name,
    version: "1",
    rules: [{ name: "r", conditions: { all: [] }, event: { type: "wake" } }],
  });

test.each([
  ["p.txt", "p.txt", "p.txt.json"],
  ["p.JSON", "p", "p.json"],
  ["p.JSON", "p.JSON", "p.JSON.json"],
  [".p.json", "p", "p.json"],
])("%s holding the policy %s is invalid at $.name, asking for %s", async (file, name, wanted) => {
  const path = join(dir, file);
  writeFileSync(path, policy(name));
  const { code, out } = await capture((o) => runValidate([path], o));
  expect(code).toBe(1);
  expect(out).toContain(`FAIL  ${path}`);
  expect(out).toContain(`${path} $.name: the server loads only files named after their policy with .json`);
  expect(out).toContain(`rename the file to ${wanted}`);
});

test("a file named NAME.json anywhere is still checked as before", async () => {
  const path = join(dir, "queue-worker.json");
  writeFileSync(path, readFileSync(join(RULES_DIR, "queue-worker.json")));
  const { code, out } = await capture((o) => runValidate([path], o));
  expect(out).toContain(`ok    ${path}  queue-worker@1`);
  expect(code).toBe(0);
});
