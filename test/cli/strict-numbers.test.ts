// Number options are plain decimal, as docs/cli.md gives them: `--limit N`, `--count N`,
// `--timeout S` (and VIGIL_TIMEOUT), `--min-coverage N`. Number() took `0x2`, `1e0`, `" 5"` and
// `0b1` for numbers, so a typo or a stray space in a script went through as some other value;
// each is now a usage error, exit 2, naming the option, and nothing is sent.

import { expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runEvents } from "../../src/cli/events.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { runTest } from "../../src/cli/test.ts";
import { RULES_DIR } from "../helpers/services.ts";
import { recordingServer, run } from "./harness.ts";

const { seen, url } = recordingServer();

const LOOSE = ["0x2", "1e0", " 5", "5 ", "0b1", "+3", "2."];

test.each(LOOSE)("%j is no --limit, --count or --timeout: usage, exit 2, nothing sent", async (text) => {
  seen.length = 0;
  const cases = [
    [runObjects, ["list", "--limit", text], "vigil objects: --limit takes a whole number of at least 1"],
    [runDecisions, ["list", "w-1", "--limit", text], "vigil decisions: --limit takes a whole number of at least 1"],
    [runEvents, ["--count", text], "vigil events: --count takes a whole number of at least 1"],
    [runObjects, ["list", "--timeout", text], "vigil objects: --timeout takes a number of seconds above 0"],
  ] as const;
  for (const [entry, args, message] of cases) {
    const r = await run(entry, [...args], url());
    expect(r.code, `${args.join(" ")}`).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(message);
  }
  const variable = await run(runObjects, ["list"], url(), { env: { VIGIL_URL: url(), VIGIL_TIMEOUT: text } });
  expect(variable.code).toBe(2);
  expect(variable.err).toContain("vigil objects: VIGIL_TIMEOUT takes a number of seconds above 0");
  expect(seen).toEqual([]);
});

test.each(LOOSE)("%j is no --min-coverage: usage, exit 2", async (text) => {
  let out = "";
  let err = "";
  const code = await runTest(
    ["--rules", RULES_DIR, "--min-coverage", text, "fixtures/queue-worker"],
    (s) => (out += s),
    (s) => (err += s),
  );
  expect({ code, out, err }).toEqual({
    code: 2,
    out: "",
    err: "vigil test: --min-coverage takes a percentage from 0 to 100\n",
  });
});

test("decimal digits still go through, with a fraction where one makes sense", async () => {
  seen.length = 0;
  // The recording server answers 500: the request was sent, so the number was taken.
  expect((await run(runObjects, ["list", "--limit", "07", "--timeout", "2.5"], url())).code).toBe(5);
  expect((await run(runObjects, ["list"], url(), { env: { VIGIL_URL: url(), VIGIL_TIMEOUT: "0.5" } })).code).toBe(5);
  expect(seen).toEqual(["GET /v1/objects?limit=7", "GET /v1/objects"]);
  let out = "";
  const code = await runTest(
    ["--rules", RULES_DIR, "--min-coverage", "12.5", "fixtures/queue-worker"],
    (s) => (out += s),
    () => {},
  );
  expect(out).toContain("queue-worker: 100%");
  expect(code).toBe(1); // the other policies, which no fixture here runs, are below 12.5%
});

test("a --limit or --count past 2^53 - 1 is said to be too large, with the bound: usage, exit 2, nothing sent", async () => {
  seen.length = 0;
  const cases = [
    [runObjects, ["list", "--limit"], "vigil objects: --limit"],
    [runDecisions, ["list", "w-1", "--limit"], "vigil decisions: --limit"],
    [runEvents, ["--count"], "vigil events: --count"],
  ] as const;
  for (const [entry, args, named] of cases)
    for (const text of ["99999999999999999999", "9007199254740992"]) {
      const r = await run(entry, [...args, text], url());
      expect(r.code, `${args.join(" ")} ${text}`).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toContain(`${named} ${text} is too large: it takes a whole number from 1 to 9007199254740991`);
    }
  expect(seen).toEqual([]);
  // The bound itself goes through (the recording server answers 500: it was sent).
  expect((await run(runObjects, ["list", "--limit", "9007199254740991"], url())).code).toBe(5);
  expect(seen).toEqual(["GET /v1/objects?limit=9007199254740991"]);
});
