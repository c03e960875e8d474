// A token an HTTP header cannot carry (a character past U+00FF, a line break inside it) is a
// usage error (exit 2) naming where it came from: fetch refuses such a header before it
// connects, which used to read as "cannot reach the server; is the server running?" (exit 3).
// A line break at an end (a token file saved with CRLF) is trimmed as fetch trims it, and works.

import { afterAll, beforeAll, expect, test } from "vitest";
import { runObjects } from "../../src/cli/objects.ts";
import { run, serveVigil, type Served } from "./harness.ts";

const TOKEN = "0123456789abcdef-ops";
let served: Served;
beforeAll(async () => {
  served = await serveVigil([{ name: "ops", token: TOKEN, scopes: ["admin"] }]);
});
afterAll(() => served.close());

test.each([
  ["--token", "0123456789abcdef-\u20acops"],
  ["--token", "0123456789abcdef\nops"],
  ["VIGIL_TOKEN", "0123456789abcdef\u0000ops"],
])("%s %j: a usage error, not an unreachable server", async (where, token) => {
  const r =
    where === "--token"
      ? await run(runObjects, ["list", "--token", token], served.url)
      : await run(runObjects, ["list"], served.url, { env: { VIGIL_URL: served.url, VIGIL_TOKEN: token } });
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).toContain(`the token (${where}) holds a line break or a character an HTTP header cannot carry`);
  expect(r.err).not.toContain("is the server running?");
});

test("a token with a line break at its end (a CRLF file) is sent trimmed", async () => {
  const r = await run(runObjects, ["list", "--token", `${TOKEN}\r\n`], served.url);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
});
