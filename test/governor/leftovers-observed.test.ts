// The stored observation of an object whose leader exited on its own lists what is left of its
// tree (`leftovers`) while that is being stopped. Found in a review: once the leftovers were
// gone, GET kept listing them for good, since reconciliation stored an observation only when
// the object diverged. Now a pass stores it when its leftovers changed, and only then.
//
// A crash loop leaves an object `failed`, its stored observation listing leftovers too. A second
// review: reconciliation looked only at active and dormant objects, so a failed one kept listing
// them until its next action. Now a pass also observes a failed object whose stored observation
// lists leftovers, for them alone: its state and the rest of the observation stay as they were.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { groupMembers } from "../../src/substrate/process/proc.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { eventually } from "../helpers/eventually.ts";
import { confirmed } from "../helpers/events.ts";
import { killGroups } from "../helpers/process.ts";
import { START } from "../helpers/services.ts";

const groups: number[] = [];
const governors: Governor[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const g of governors.splice(0)) await g.close();
  killGroups(groups);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Wakes on `go`, and so again after each exit while `go` is set: with a leader that exits of
 * itself, one exit leaves it dormant until the rules run again, and a leader that exits at once
 * makes a crash loop.
 */
const wakesOnGo = (name: string) => ({
  name,
  version: "1",
  rules: [
    {
      name: "go",
      conditions: { all: [{ fact: "memory", path: "$.go", operator: "equal", value: true }] },
      event: { type: "wake" },
    },
  ],
});

test("leftovers gone are no longer listed once reconciliation has seen them gone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-left-"));
  dirs.push(dir);
  // A child that ignores SIGTERM (so it outlives the grace period), and a leader that exits 4
  // when the test says so.
  const script = "(trap '' TERM; exec sleep 1000) & while [ ! -e exit ]; do sleep 0.02; done; exit 4";
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadText(JSON.stringify(wakesOnGo("one-shot")), "inline/one-shot.json").ok).toBe(true);
  const store = new MemoryStore();
  const g = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  governors.push(g);
  await g.start();
  await g.putObject("w", {
    policy: "one-shot",
    substrate: { driver: "process", config: { command: "sh", args: ["-c", script], cwd: dir, graceMs: 2000 } },
  });
  const started = confirmed(g, "start");
  await g.postFacts("w", { go: true });
  await started;
  await g.postFacts("w", { go: false });
  const pid = (await g.getObject("w"))!.substrate.observed!.pid as number;
  groups.push(pid);
  expect(await eventually(() => groupMembers(pid).length === 2)).toBe(true);

  const exited = new Promise<void>((resolve) =>
    g.events.on("decision:recorded", (d) => d.trigger.kind === "substrate" && resolve()),
  );
  writeFileSync(join(dir, "exit"), "");
  await exited;
  const after = (await g.getObject("w"))!;
  expect(after.state).toBe("dormant");
  expect(after.substrate.observed).toMatchObject({ exitCode: 4, leftovers: [{ pgid: pid }] });

  // The grace period ends: the sleep gets its SIGKILL and is gone.
  await clock.advance(2000);
  expect(await eventually(() => groupMembers(pid).length === 0)).toBe(true);
  expect(await g.reconcile()).toBe(0);
  const seen = (await g.getObject("w"))!;
  expect(seen.state).toBe("dormant");
  expect(seen.substrate.observed).not.toHaveProperty("leftovers");
  // The rest of the observation is as it was stored.
  expect(seen.substrate.observed).toMatchObject({ status: "stopped", pid, exitCode: 4, reason: "exited" });

  // Nothing changed since: the next pass writes nothing.
  await clock.advance(1000);
  expect(await g.reconcile()).toBe(0);
  expect((await g.getObject("w"))!.updatedAt).toBe(seen.updatedAt);
});

test("a failed object's leftovers, once gone, are no longer listed after a reconciliation", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-left-failed-"));
  dirs.push(dir);
  // Each leader leaves a child that ignores SIGTERM (it outlives the grace period) and exits 3
  // once `exit` exists; the test writes it before the first start, so each exits at once.
  const script = "(trap '' TERM; exec sleep 1000) & while [ ! -e exit ]; do sleep 0.02; done; exit 3";
  writeFileSync(join(dir, "exit"), "");
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  expect(policies.loadText(JSON.stringify(wakesOnGo("restarts")), "inline/restarts.json").ok).toBe(true);
  const g = new Governor({ store: new MemoryStore(), policies, clock, drivers: [new ProcessDriver({ clock })] });
  governors.push(g);
  await g.start();
  await g.putObject("w", {
    policy: "restarts",
    substrate: { driver: "process", config: { command: "sh", args: ["-c", script], cwd: dir, graceMs: 2000 } },
  });
  const failed = new Promise<void>((resolve) =>
    g.events.on("decision:recorded", (d) => d.toState === "failed" && resolve()),
  );
  await g.postFacts("w", { go: true });
  await failed;
  const before = (await g.getObject("w"))!;
  expect(before.state).toBe("failed");
  const pgids = (before.substrate.observed!.leftovers as { pgid: number }[]).map((l) => l.pgid);
  groups.push(...pgids);
  expect(pgids.length).toBeGreaterThan(0);

  // The grace period ends: the sleeps get their SIGKILL and are gone.
  await clock.advance(2000);
  expect(await eventually(() => pgids.every((pgid) => groupMembers(pgid).length === 0))).toBe(true);
  expect(await g.reconcile()).toBe(0);
  const seen = (await g.getObject("w"))!;
  expect(seen.state).toBe("failed");
  expect(seen.substrate.observed).not.toHaveProperty("leftovers");
  const { leftovers: _gone, ...rest } = before.substrate.observed!;
  expect(seen.substrate.observed).toEqual(rest);

  // Nothing listed since: the next pass writes nothing.
  await clock.advance(1000);
  expect(await g.reconcile()).toBe(0);
  expect((await g.getObject("w"))!.updatedAt).toBe(seen.updatedAt);
});
