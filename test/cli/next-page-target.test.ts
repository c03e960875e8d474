// The `more:` line of `vigil objects list` and the `older:` line of `vigil decisions list`
// repeat the server, token and timeout the listing was given as flags, and are run here as
// printed, by a POSIX shell, with the real binary. They dropped --url, --token and --timeout:
// run as printed, the next page was asked of http://127.0.0.1:8080. The token is never printed:
// a --token shows as "$VIGIL_TOKEN", and one from the environment is left to it.

import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { shellWord } from "../../src/cli/command-line.ts";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { run, serveVigil, type Run, type Served } from "./harness.ts";

const TOKEN = "0123456789abcdef-ops";
let served: Served;
let flags: string[];
beforeAll(async () => {
  served = await serveVigil([{ name: "ops", token: TOKEN, scopes: ["admin"] }]);
  flags = ["--url", served.url, "--token", TOKEN];
  for (const [id, policy] of [
    ["a-queue", "queue-worker"],
    ["b-nightly", "nightly-report"],
    ["c-queue", "queue-worker"],
  ])
    expect((await run(runObjects, ["put", id!, "--policy", policy!, ...flags], served.url)).code).toBe(0);
  for (const n of [1, 2, 3])
    expect((await run(runFacts, ["post", "a-queue", JSON.stringify({ n }), ...flags], served.url)).code).toBe(0);
});
afterAll(() => served.close());

/** `sh -c script` in the repository, where `vigil` runs bin/vigil.js; the environment is `env` only (and PATH). */
function sh(script: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn("sh", ["-c", `vigil() { ${shellWord(process.execPath)} bin/vigil.js "$@"; }\n${script}`], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/** The command a line of `prefix: vigil ...` gives. */
const commandOf = (out: string, prefix: string) => {
  const line = new RegExp(`^${prefix}: (vigil .*)$`, "m").exec(out)?.[1];
  expect(line, out).toBeDefined();
  return line!;
};

/** The command with its cursor (base64url: no quoting needed) as C. */
const withoutCursor = (command: string) => command.replace(/ --cursor [A-Za-z0-9_-]+$/, " --cursor C");

test("objects list: the 'more:' command keeps --url and --timeout, and the token as \"$VIGIL_TOKEN\"", async () => {
  const first = await run(
    runObjects,
    ["list", ...flags, "--timeout", "30", "--policy", "queue-worker", "--limit", "1"],
    served.url,
    { env: {} },
  );
  expect(first.code).toBe(0);
  expect(first.out).toContain("a-queue");
  const more = commandOf(first.out, "more");
  expect(more).not.toContain(TOKEN);
  expect(withoutCursor(more)).toBe(
    `vigil objects list --url ${served.url} --token "$VIGIL_TOKEN" --timeout 30 ` +
      "--policy queue-worker --limit 1 --cursor C",
  );
  // Run as printed, with the token in VIGIL_TOKEN and no VIGIL_URL: the next page of the same
  // server and filter (a request to the default URL would not list c-queue).
  const next = await sh(more, { VIGIL_TOKEN: TOKEN });
  expect(next.err).toBe("");
  expect(next.code).toBe(0);
  expect(next.out).toContain("c-queue");
  expect(next.out).not.toContain("a-queue");
  expect(next.out).not.toContain("b-nightly");
});

test("objects list: what came from VIGIL_URL, VIGIL_TOKEN and VIGIL_TIMEOUT is left to the environment", async () => {
  const env = { VIGIL_URL: served.url, VIGIL_TOKEN: TOKEN, VIGIL_TIMEOUT: "30" };
  const first = await run(runObjects, ["list", "--limit", "2"], served.url, { env });
  const more = commandOf(first.out, "more");
  expect(withoutCursor(more)).toBe("vigil objects list --limit 2 --cursor C");
  const next = await sh(more, env);
  expect(next.code).toBe(0);
  expect(next.out).toContain("c-queue");
});

test("decisions list: the 'older:' command keeps --url and --timeout, and the token as \"$VIGIL_TOKEN\"", async () => {
  const first = await run(runDecisions, ["list", "a-queue", ...flags, "--timeout", "5", "--limit", "1"], served.url, {
    env: {},
  });
  expect(first.code).toBe(0);
  const newest = /^(dec_\S+)/m.exec(first.out)?.[1];
  const older = commandOf(first.out, "older");
  expect(older).not.toContain(TOKEN);
  expect(older).toBe(
    `vigil decisions list a-queue --url ${served.url} --token "$VIGIL_TOKEN" --timeout 5 --limit 1 --before ${newest}`,
  );
  const next = await sh(older, { VIGIL_TOKEN: TOKEN });
  expect(next.err).toBe("");
  expect(next.code).toBe(0);
  const rows = next.out.split("\n").filter((l) => l.startsWith("dec_"));
  expect(rows).toHaveLength(1);
  expect(rows[0]).not.toContain(newest);
});

test("an empty --token (none, over VIGIL_TOKEN) is repeated as ''", async () => {
  const served2 = await serveVigil();
  try {
    for (const id of ["x-1", "x-2"])
      expect((await run(runObjects, ["put", id, "--policy", "queue-worker"], served2.url)).code).toBe(0);
    const first = await run(runObjects, ["list", "--token", "", "--limit", "1"], served2.url);
    expect(withoutCursor(commandOf(first.out, "more"))).toBe("vigil objects list --token '' --limit 1 --cursor C");
  } finally {
    await served2.close();
  }
});

test("shellWord: a POSIX shell reads each word back as it was", async () => {
  const words = ["", "plain-word_1.2:3,4@5%6+7=8/9", "a b", "it's", "$HOME", "`id`", "a\nb", "*", "~", "\\", "ключ"];
  const r = await sh(`printf '%s\\0' ${words.map(shellWord).join(" ")}`);
  expect(r.code).toBe(0);
  expect(r.out.split("\0").slice(0, -1)).toEqual(words);
  expect(shellWord("plain-word_1.2:3,4@5%6+7=8/9")).toBe("plain-word_1.2:3,4@5%6+7=8/9");
});
