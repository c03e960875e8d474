// docs/cli.md, "Output": the text the client commands print shows a control character of what the
// server sent as an escape. An action's error carries the words of a driver, of the process it
// could not start and of the command a PUT named; a terminal takes an ESC in them for the start
// of a sequence (clear the screen, set the window's title) and a line break for a line of its
// own. Over the real server with the process substrate: a command that names no program, with an
// ESC, a BEL and a line break in its name, fails to start.

import { afterAll, beforeAll, expect, test } from "vitest";
import { runDecisions } from "../../src/cli/decisions.ts";
import { runEvents } from "../../src/cli/events.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { startVigil, type VigilProcess } from "../helpers/process.ts";
import { printable } from "../../src/cli/printable.ts";
import { run, type Run } from "./harness.ts";

const COMMAND = "\u001b]0;owned\u0007\u001b[2J\n2026-03-01T00:00:00.000Z  decision dec_forged  w1  facts  wake";
/** What a terminal acts on: C0 controls but the line ends the command prints itself, DEL, C1. */
// oxlint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let vigil: VigilProcess;
beforeAll(async () => {
  vigil = await startVigil({ VIGIL_DB_URL: ":memory:", VIGIL_LOG_LEVEL: "warn" });
});
afterAll(async () => {
  vigil.kill("SIGTERM");
  await vigil.exited;
});

const call = (method: string, path: string, body: unknown) =>
  fetch(`${vigil.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

/** Each line the command printed holds none, and the escapes show where they were. */
function printedSafely(r: Run, lines: number): void {
  expect(r.code).toBe(0);
  expect(r.out).not.toMatch(CONTROL);
  expect(r.out).toContain("\\u001b]0;owned\\u0007\\u001b[2J\\u000a2026-03-01T00:00:00.000Z  decision dec_forged");
  expect(r.out.split("\n").filter((l) => l.includes("dec_forged"))).toHaveLength(lines);
}

test("an action's error with an ESC and a line break reaches events, decisions and explain as escapes", async () => {
  // Followed from before the object exists: its create decision shows the stream is live.
  let out = "";
  let live: () => void;
  const following = new Promise<void>((resolve) => (live = resolve));
  const events = run(runEvents, ["--object", "esc", "--count", "5"], vigil.url, {
    out: (s) => {
      out += s;
      if (out.includes(" create ")) live();
    },
    setTimer: () => () => {},
  });
  const put = await call("PUT", "/v1/objects/esc", {
    policy: "on-demand",
    substrate: { driver: "process", config: { command: COMMAND } },
  });
  expect(put.status).toBe(201);
  await following;
  const posted = await call("POST", "/v1/objects/esc/facts", { facts: { work: { pending: 1 } } });
  expect(posted.status).toBe(200);
  // create, wake, the start dispatched and failed, and the decision its failure took.
  const followed = await events;
  printedSafely({ ...followed, out }, 1);
  expect(out).toContain("start failed");

  const failure = out.match(/decision (dec_\w+) {2}esc {2}substrate/)![1]!;
  printedSafely(await run(runDecisions, ["get", failure], vigil.url), 2);
  printedSafely(await run(runExplain, [failure], vigil.url), 2);
});

test("printable escapes C0 and C1 controls, DEL and what reorders or hides text, and leaves the rest", () => {
  const text = "a\tb\r\u007f\u009b2J \u202eevil\u202c \u2066x\u2069 \u200b\ufeff é 日本 ✓";
  expect(printable(text)).toBe(
    "a\\u0009b\\u000d\\u007f\\u009b2J \\u202eevil\\u202c \\u2066x\\u2069 \\u200b\\ufeff é 日本 ✓",
  );
});
