// What the server's log says about its policies: a policy that loads with warnings (validation's
// likely mistakes) says so at start-up and again when its file is edited, as `vigil validate`
// and POST /v1/policies/validate would.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startVigil, type VigilProcess } from "../helpers/process.ts";
import { WAIT_MS } from "../helpers/eventually.ts";
import { RULES_DIR } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-policy-log-"));
const running: VigilProcess[] = [];
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A policy whose `in` takes a string: a substring test, which validation warns about. */
const warned = (version: string) => ({
  name: "owner-check",
  version,
  rules: [
    {
      name: "ours",
      conditions: { all: [{ fact: "memory", path: "$.owner", operator: "in", value: "api" }] },
      event: { type: "wake" },
    },
  ],
});

const lines = (p: VigilProcess) =>
  p
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * Waits for a line of the log (stderr may arrive after stdout's "listening", and a reload after an
 * edit), for up to WAIT_MS of real time; the test's own expect then says which line is missing.
 */
async function logged(p: VigilProcess, msg: string, policy: string): Promise<void> {
  for (let i = 0; i < WAIT_MS / 25 && !lines(p).some((l) => l.msg === msg && l.policy === policy); i++)
    await new Promise((r) => setTimeout(r, 25));
}

test("a policy's warnings are logged when it loads at start-up and when its file is reloaded", async () => {
  const rules = join(dir, "rules");
  cpSync(RULES_DIR, rules, { recursive: true });
  const file = join(rules, "owner-check.json");
  writeFileSync(file, JSON.stringify(warned("1")));
  const p = await startVigil({ VIGIL_DB_URL: `file:${join(dir, "x.db")}`, VIGIL_RULES_DIR: rules });
  running.push(p);
  const warning = (version: string) => ({
    level: "warn",
    msg: "policy loaded with a warning",
    file,
    policy: `owner-check@${version}`,
    path: "$.rules[0].conditions.all[0].value",
    warning: expect.stringContaining("substring test"),
  });
  await logged(p, "policy loaded with a warning", "owner-check@1");
  expect(lines(p)).toContainEqual(expect.objectContaining(warning("1")));
  // Nothing else in the directory is warned about.
  expect(lines(p).filter((l) => l.msg === "policy loaded with a warning")).toHaveLength(1);

  writeFileSync(file, JSON.stringify(warned("2")));
  // The watcher reloads the file (a real file system event).
  await logged(p, "policy loaded with a warning", "owner-check@2");
  expect(lines(p)).toContainEqual(expect.objectContaining({ msg: "policy reloaded", policy: "owner-check@2" }));
  expect(lines(p)).toContainEqual(expect.objectContaining(warning("2")));
  expect(readFileSync(file, "utf8")).toContain('"version":"2"');
});
