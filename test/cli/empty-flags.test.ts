// A flag that names what to ask for, given empty, is a usage error that sends nothing. The
// server takes an empty query parameter (`?policy=`) for an absent one, so a script's
// `--policy "$P"` or `--object "$ID"` with the variable unset listed or followed every object
// instead of failing, and an empty `--driver` left the object's binding as it was.

import { expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runEvents } from "../../src/cli/events.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { recordingServer, run } from "./harness.ts";

const { seen, url } = recordingServer();

test.each([
  ["--state", ["list", "--state", ""], runObjects],
  ["--policy", ["list", "--policy", ""], runObjects],
  ["--cursor", ["list", "--cursor", ""], runObjects],
  ["--driver", ["put", "w-1", "--policy", "queue-worker", "--driver", ""], runObjects],
  ["--before", ["list", "w-1", "--before", ""], runDecisions],
  ["--object", ["--object", ""], runEvents],
  ["--types", ["--types", ""], runEvents],
  ["--last-event-id", ["--last-event-id", ""], runEvents],
] as const)("an empty %s is usage, exit 2, and sends nothing", async (flag, args, entry) => {
  seen.length = 0;
  const r = await run(entry, [...args], url());
  expect(r.code).toBe(2);
  expect(r.err).toContain(`${flag} must not be empty`);
  expect(seen).toEqual([]);
});
