// Hot reload of rules that reach the directory through symlinks, as deploy tools lay them out:
// a Kubernetes ConfigMap volume (each file a symlink through `..data`, swapped to a new version),
// a file symlinked from elsewhere and edited there, a rules directory that is itself a symlink
// switched to a new release. No directory event tells of these edits: the watcher reads the
// directory again every POLL_MS, on its clock (virtual here), and reports what goes once. And
// hidden files (an editor's lock file) are no policies.

import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { POLL_MS, PolicyWatcher } from "../../src/governor/policy-watcher.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const doc = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as Record<string, unknown>;
const text = (version: string) => JSON.stringify({ ...doc, version }, null, 2);

let watcher: PolicyWatcher | null = null;
const dirs: string[] = [];
afterEach(() => {
  watcher?.close();
  watcher = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "vigil-watch-"));
  dirs.push(d);
  return d;
}

function watch(dir: string) {
  const clock = new VirtualClock(START);
  const registry = new PolicyRegistry(() => clock.now());
  registry.loadDirectory(dir);
  const reports: string[] = [];
  watcher = new PolicyWatcher(dir, registry, async () => {}, clock, {
    reloaded: (_file, r) => reports.push("removed" in r ? "removed" : r.ok ? "loaded" : "refused"),
  });
  watcher.start();
  const version = () => registry.get("queue-worker")?.version;
  // A poll, then the reload it settles into.
  const poll = () => clock.advance(POLL_MS + 1000);
  return { registry, version, poll, reports };
}

test("a Kubernetes ConfigMap volume: the ..data symlink swapped to a new version is loaded", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "..2026_01_01_v1"));
  writeFileSync(join(dir, "..2026_01_01_v1", "queue-worker.json"), text("1"));
  symlinkSync("..2026_01_01_v1", join(dir, "..data"));
  symlinkSync("..data/queue-worker.json", join(dir, "queue-worker.json"));
  const { version, poll, registry } = watch(dir);
  expect(version()).toBe("1");
  // The kubelet's update: a new timestamped directory, `..data_tmp` to it, renamed over `..data`.
  mkdirSync(join(dir, "..2026_01_02_v2"));
  writeFileSync(join(dir, "..2026_01_02_v2", "queue-worker.json"), text("2"));
  symlinkSync("..2026_01_02_v2", join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  rmSync(join(dir, "..2026_01_01_v1"), { recursive: true });
  await poll();
  expect(version()).toBe("2");
  expect(registry.list().errors).toEqual([]);
});

/** A rules directory whose queue-worker.json is a symlink to a file elsewhere (`target`, version 1). */
function symlinkedRules(): { dir: string; target: string } {
  const dir = tempDir();
  const target = join(tempDir(), "queue-worker.json");
  writeFileSync(target, text("1"));
  symlinkSync(target, join(dir, "queue-worker.json"));
  return { dir, target };
}

test("a rules file symlinked to a file elsewhere: an edit of its target is loaded", async () => {
  const { dir, target } = symlinkedRules();
  const { version, poll } = watch(dir);
  writeFileSync(target, text("2"));
  await poll();
  expect(version()).toBe("2");
});

test("a rules directory that is a symlink switched to a new release: the release is loaded, and edits in it", async () => {
  const base = tempDir();
  for (const [release, v] of [
    ["v1", "1"],
    ["v2", "2"],
  ]) {
    mkdirSync(join(base, release!));
    writeFileSync(join(base, release!, "queue-worker.json"), text(v!));
  }
  symlinkSync("v1", join(base, "current"));
  const { version, poll } = watch(join(base, "current"));
  symlinkSync("v2", join(base, "next"));
  renameSync(join(base, "next"), join(base, "current"));
  await poll();
  expect(version()).toBe("2");
  writeFileSync(join(base, "current", "queue-worker.json"), text("3"));
  await poll();
  expect(version()).toBe("3");
});

test("a hidden file (an editor's lock file, .#name.json) is no policy: not loaded, not refused", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "queue-worker.json"), text("1"));
  symlinkSync("user@host.1234:1700000000", join(dir, ".#queue-worker.json"));
  const { registry, poll } = watch(dir);
  await poll();
  expect(registry.get("queue-worker")?.version).toBe("1");
  expect(registry.list().errors).toEqual([]);
});

test("a symlinked file whose target is deleted is reported refused once, as a start would, not at every poll", async () => {
  const { dir, target } = symlinkedRules();
  const { version, poll, reports } = watch(dir);
  rmSync(target);
  for (let i = 0; i < 5; i++) await poll();
  expect(reports).toEqual(["refused"]);
  expect(version()).toBe("1"); // its last version keeps serving
});
