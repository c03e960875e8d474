// docs/substrates.md against the outbox's tries (DEFAULT_RETRY): every count of tries it gives is
// the dispatcher's, and a stop stuck on a process that outlasts its SIGKILL (state D) is said to
// fail for good after them, the object `failed`, not to be confirmed whenever the process exits.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { DEFAULT_RETRY } from "../../src/governor/dispatcher.ts";

const doc = readFileSync(new URL("../../docs/substrates.md", import.meta.url), "utf8").replace(/\s+/g, " ");

test("the tries docs/substrates.md counts are DEFAULT_RETRY's, and a stuck stop ends failed after them", () => {
  const counts = [
    ...doc.matchAll(/An action is tried (\d+) times|tries a stop (\d+) times|failed after (\d+) attempts/g),
  ].map((m) => Number(m[1] ?? m[2] ?? m[3]));
  expect(counts.length).toBeGreaterThanOrEqual(3);
  expect(new Set(counts)).toEqual(new Set([DEFAULT_RETRY.maxAttempts]));
  // The stuck stop: a try after a try, then `failed`.
  const stuck = doc.slice(doc.indexOf("has not exited 10 s after its SIGKILL"));
  expect(stuck.slice(0, 700)).toMatch(/tries a stop \d+ times in all .*the object becomes `failed`/);
  expect(doc).not.toContain("is confirmed once it has exited. A");
  expect(doc).not.toContain("SIGKILL again, until it has exited");
});
