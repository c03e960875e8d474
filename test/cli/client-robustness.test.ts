// The client against a --url it must refuse: one with a user name or password (never printed),
// one with a query or a fragment.

import { describe, expect, test } from "vitest";
import { runObjects } from "../../src/cli/objects.ts";
import { run } from "./harness.ts";

describe("a --url the client refuses: usage, exit 2", () => {
  test.each([
    ["http://admin:hunter2@127.0.0.1:9", "--url holds a user name or password"],
    ["http://admin@127.0.0.1:9", "--url holds a user name or password"],
    ["http://admin:hunter2@", '--url "http://...@" is not a URL'],
  ])("%s: refused, the password not printed", async (given, message) => {
    const r = await run(runObjects, ["list", "--url", given], "http://127.0.0.1:9");
    expect(r.code).toBe(2);
    expect(r.err).toContain(`vigil objects: ${message}`);
    expect(r.err).not.toContain("hunter2");
    const fromEnv = await run(runObjects, ["list"], given);
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).not.toContain("hunter2");
  });

  test.each(["http://127.0.0.1:9/?x=1", "http://127.0.0.1:9/#top", "http://127.0.0.1:9/api?"])(
    "%s: a query or a fragment is refused (the paths would land after it)",
    async (given) => {
      const r = await run(runObjects, ["list", "--url", given], "http://127.0.0.1:9");
      expect(r.code).toBe(2);
      expect(r.err).toContain(`vigil objects: --url "${given}" has a query or a fragment; give the server's base URL`);
    },
  );
});
