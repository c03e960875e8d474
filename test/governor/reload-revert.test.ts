// Two reloads of one policy file whose armings would overlap: an edit, then its undo, saved
// while the edit's arming is about to walk the objects, or is walking them. The policy that
// serves is the undone (original) version; the objects must be armed for its schedule, not the
// edit's (each arming waits for the one before and arms for the version serving when it begins;
// one that ends with another version serving clears the record, so the next walks them all).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { PolicyWatcher } from "../../src/governor/policy-watcher.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
let watcher: PolicyWatcher | null = null;
const dirs: string[] = [];
afterEach(async () => {
  watcher?.close();
  await s?.close();
  s = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Objects a, b and c of policy p (a tick every five minutes), its file, its edit (09:00) and a watcher. */
async function threeObjects() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-reload-"));
  dirs.push(dir);
  const file = join(dir, "p.json");
  const original = scheduledPolicy({ name: "p", version: "1", cron: "*/5 * * * *" });
  const edit = scheduledPolicy({ name: "p", version: "2", cron: "0 9 * * *" });
  writeFileSync(file, JSON.stringify(original));
  s = await makeServices({ start: Date.parse("2026-01-01T00:00:00Z"), rulesDir: dir });
  const services = s;
  watcher = new PolicyWatcher(dir, services.policies, (name) => services.governor.armSchedules(name), services.clock, {
    reloaded: () => {},
  });
  for (const id of ["a", "b", "c"]) await services.governor.putObject(id, { policy: "p" });
  const tickOf = async (id: string) =>
    new Date((await services.governor.getObject(id))!.timers.find((t) => t.name === "tick")!.dueAt).toISOString();
  expect(await tickOf("a")).toBe("2026-01-01T00:05:00.000Z");
  return { services, file, original, edit, watcher, tickOf };
}

test("an edit and its undo reloaded back to back leave the objects armed for the serving schedule", async () => {
  const { services, file, original, edit, watcher, tickOf } = await threeObjects();

  // The edit is saved and reloaded; its arming is under way when the undo is saved and reloaded.
  writeFileSync(file, JSON.stringify(edit));
  const first = watcher.reload(file);
  writeFileSync(file, JSON.stringify(original));
  const second = watcher.reload(file);
  await Promise.all([first, second]);
  await services.governor.idle();

  // What serves is the original, every five minutes...
  expect(services.policies.get("p")!.version).toBe("1");
  // ...so every object's next tick is 00:05, not the edit's 09:00.
  expect(await tickOf("a")).toBe("2026-01-01T00:05:00.000Z");
  expect(await tickOf("c")).toBe("2026-01-01T00:05:00.000Z");
  let fired = 0;
  services.governor.events.on("timer:fired", () => fired++);
  await services.advance(5 * 60_000);
  expect(fired).toBe(3);
});

test("an undo saved while the edit's arming is walking the objects leaves the original schedule in force", async () => {
  const { services, file, original, edit, watcher, tickOf } = await threeObjects();

  // Object b's mailbox is busy (an evaluation under way): the edit's arming waits there.
  let unblock!: () => void;
  const blocker = services.governor.exclusive("b", () => new Promise<void>((r) => (unblock = r)));
  writeFileSync(file, JSON.stringify(edit));
  const first = watcher.reload(file);
  // Let the edit's arming begin and reach b.
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  expect(await tickOf("a")).toBe("2026-01-01T09:00:00.000Z"); // the edit's arming is under way
  // The undo is saved and reloaded meanwhile.
  writeFileSync(file, JSON.stringify(original));
  const second = watcher.reload(file);
  unblock();
  await blocker;
  await Promise.all([first, second]);
  await services.governor.idle();

  expect(services.policies.get("p")!.version).toBe("1");
  // The original serves: every object's next tick is 00:05, not the edit's 09:00.
  expect({ a: await tickOf("a"), b: await tickOf("b"), c: await tickOf("c") }).toEqual({
    a: "2026-01-01T00:05:00.000Z",
    b: "2026-01-01T00:05:00.000Z",
    c: "2026-01-01T00:05:00.000Z",
  });
});
