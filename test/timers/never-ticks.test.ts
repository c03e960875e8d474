// A schedule that never ticks: every tick of "0 2 * 10 0#1" in Australia/Lord_Howe (02:00 on the
// first Sunday of October) falls at the very moment its clocks jump to 02:30, and a tick the
// spring change skips is skipped. Such a schedule arms no timer; validation warns about it. Its
// "no next tick" once escaped wherever a tick was computed: creation and facts were refused
// with a 422, and a restart's arming failed the governor's start.

import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

const open: TestServices[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const START = Date.parse("2026-03-01T00:00:00Z");
const NEVER = { name: "yearly", cron: "0 2 * 10 0#1", timezone: "Australia/Lord_Howe" };
const policy = (withSchedule: boolean) => ({
  name: "lh",
  version: withSchedule ? "2" : "1",
  ...(withSchedule ? { schedules: [NEVER] } : {}),
  rules: [
    {
      name: "backlog",
      conditions: { all: [{ fact: "memory", path: "$.depth", operator: "greaterThan", value: 0 }] },
      event: { type: "wake" },
    },
  ],
});

function rulesDir(withSchedule: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-never-ticks-"));
  dirs.push(dir);
  for (const f of readdirSync(RULES_DIR)) copyFileSync(join(RULES_DIR, f), join(dir, f));
  writeFileSync(join(dir, "lh.json"), JSON.stringify(policy(withSchedule)));
  return dir;
}

describe("a schedule that never ticks", () => {
  test("is valid, with a warning at its cron", () => {
    const r = validatePolicy(policy(true));
    expect(r.valid).toBe(true);
    expect(r.valid && r.warnings).toEqual([
      { path: "$.schedules[0].cron", message: expect.stringMatching(/never fires/) },
    ]);
    expect(validatePolicy(policy(false))).toMatchObject({ valid: true, warnings: [] });
  });

  test("objects of its policy are created and take facts, with no timer armed", async () => {
    const s = await makeServices({ start: START, rulesDir: rulesDir(true) });
    open.push(s);
    await expect(s.governor.putObject("o", { policy: "lh" })).resolves.toMatchObject({ created: true });
    await expect(s.governor.postFacts("o", { depth: 1 })).resolves.toMatchObject({ decision: { outcome: "wake" } });
    expect((await s.store.getObject("o"))!.timers.filter((t) => t.kind === "cron")).toEqual([]);
  });

  test("added to a policy with objects: arming passes over it, and the objects still take facts", async () => {
    const s = await makeServices({ start: START });
    open.push(s);
    expect(s.policies.loadText(JSON.stringify(policy(false)), "inline/lh.json").ok).toBe(true);
    await s.governor.putObject("o", { policy: "lh" });
    expect(s.policies.loadText(JSON.stringify(policy(true)), "inline/lh.json").ok).toBe(true);
    await s.governor.armSchedules("lh");
    await expect(s.governor.postFacts("o", { depth: 1 })).resolves.toMatchObject({ decision: { outcome: "wake" } });
  });

  test("a restart with it added still starts the governor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-never-ticks-db-"));
    dirs.push(dir);
    const url = `file:${join(dir, "vigil.db")}`;
    const first = await makeServices({ store: new LibsqlStore({ url }), start: START, rulesDir: rulesDir(false) });
    await first.governor.putObject("o", { policy: "lh" });
    await first.close();
    const second = await makeServices({
      store: new LibsqlStore({ url }),
      start: START + 60_000,
      rulesDir: rulesDir(true),
    });
    open.push(second);
    await expect(second.governor.postFacts("o", { depth: 1 })).resolves.toMatchObject({
      decision: { outcome: "wake" },
    });
  });
});
