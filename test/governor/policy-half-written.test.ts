// A policy file saved in pieces further apart than the watcher's settle time (a slow copy, an
// editor that writes a large file in two writes) is read between them as JSON that ends early.
// It is read again a little later rather than reported refused; one that stays so is refused
// after about a second. A virtual clock: the watcher's start finds the change by its digest.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import type { LoadResult } from "../../src/governor/policy-registry.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { watchedRules } from "../helpers/watched-rules.ts";

const watched = watchedRules();

async function setup() {
  const dir = watched.dir("vigil-half-");
  await watched.services({ rulesDir: dir });
  const clock = new VirtualClock(0);
  const seen: (LoadResult | { removed: true })[] = [];
  watched.watch(dir, clock, { reloaded: (_file, r) => seen.push(r) });
  const file = join(dir, "queue-worker.json");
  const text = readFileSync(file, "utf8").replace('"version": "1"', '"version": "2"');
  return { clock, seen, file, text };
}

test("a file caught half written is read again once written, and loaded without a refusal", async () => {
  const { clock, seen, file, text } = await setup();
  // The first piece ends inside a string: "Unterminated string".
  const cut = text.indexOf("work is queued") + 4;
  writeFileSync(file, text.slice(0, cut));
  watched.watcher.start();
  await clock.advance(500);
  expect(seen).toEqual([]);
  writeFileSync(file, text);
  await clock.advance(1000);
  expect(seen.map((r) => "ok" in r && r.ok)).toEqual([true]);
  expect(watched.s.policies.get("queue-worker")!.version).toBe("2");
  expect(watched.s.policies.list().errors).toEqual([]);
});

test("a file that stays cut short is refused after about a second, once", async () => {
  const { clock, seen, file, text } = await setup();
  writeFileSync(file, text.slice(0, text.length / 2));
  watched.watcher.start();
  await clock.advance(500);
  expect(seen).toEqual([]);
  await clock.advance(1500);
  expect(seen.map((r) => "ok" in r && r.ok)).toEqual([false]);
  expect(watched.s.policies.get("queue-worker")!.version).toBe("1");
});
