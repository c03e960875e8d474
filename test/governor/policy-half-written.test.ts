// A policy file saved in pieces further apart than the watcher's settle time (a slow copy, an
// editor that writes a large file in two writes) is read between them as JSON that ends early.
// It is read again a little later rather than reported refused; one that stays so is refused
// after about a second. A virtual clock: the watcher's start finds the change by its digest.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import type { LoadResult } from "../../src/governor/policy-registry.ts";
import { PolicyWatcher } from "../../src/governor/policy-watcher.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
let watcher: PolicyWatcher | null = null;
const dirs: string[] = [];
afterEach(async () => {
  watcher?.close();
  await s?.close();
  s = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-half-"));
  dirs.push(dir);
  cpSync(RULES_DIR, dir, { recursive: true });
  s = await makeServices({ rulesDir: dir });
  const clock = new VirtualClock(0);
  const seen: (LoadResult | { removed: true })[] = [];
  watcher = new PolicyWatcher(dir, s.policies, (name) => s!.governor.armSchedules(name), clock, {
    reloaded: (_file, r) => seen.push(r),
  });
  const file = join(dir, "queue-worker.json");
  const text = readFileSync(file, "utf8").replace('"version": "1"', '"version": "2"');
  return { clock, seen, file, text };
}

test("a file caught half written is read again once written, and loaded without a refusal", async () => {
  const { clock, seen, file, text } = await setup();
  // The first piece ends inside a string: "Unterminated string".
  const cut = text.indexOf("work is queued") + 4;
  writeFileSync(file, text.slice(0, cut));
  watcher!.start();
  await clock.advance(500);
  expect(seen).toEqual([]);
  writeFileSync(file, text);
  await clock.advance(1000);
  expect(seen.map((r) => "ok" in r && r.ok)).toEqual([true]);
  expect(s!.policies.get("queue-worker")!.version).toBe("2");
  expect(s!.policies.list().errors).toEqual([]);
});

test("a file that stays cut short is refused after about a second, once", async () => {
  const { clock, seen, file, text } = await setup();
  writeFileSync(file, text.slice(0, text.length / 2));
  watcher!.start();
  await clock.advance(500);
  expect(seen).toEqual([]);
  await clock.advance(1500);
  expect(seen.map((r) => "ok" in r && r.ok)).toEqual([false]);
  expect(s!.policies.get("queue-worker")!.version).toBe("1");
});
