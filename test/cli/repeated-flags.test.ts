// A flag that takes one value, given twice, is a usage error (exit 2) in every command. Node's
// parseArgs keeps the last one: `vigil simulate --policy on-demand --policy queue-worker`
// simulated queue-worker alone and said nothing of on-demand. The flags documented as
// repeatable (simulate's --compare and --object) still repeat.

import { describe, expect, test } from "vitest";
import { commandUsage, type CommandName } from "../../src/cli/usage.ts";
import { ENTRY_POINTS } from "./entry-points.ts";
import { runSimulateCli } from "../simulate/run-cli.ts";
import { vigil } from "./harness.ts";

const CLIENT = ["--url", "--token", "--timeout"];

/** Every flag of every command that takes one value (schema's flags take none). */
const SINGLE: Record<CommandName, string[]> = {
  serve: ["--host", "--port", "--db", "--rules"],
  validate: ["--rules"],
  test: ["--rules", "--min-coverage"],
  replay: ["--object", "--db"],
  simulate: [
    "--policy",
    "--traffic",
    "--db",
    "--rules",
    "--start-latency",
    "--resume-latency",
    "--autostop-after",
    "--until",
    "--report",
    "--sample",
    "--generate",
    "--objects",
    "--days",
    "--seed",
    "--start",
  ],
  schema: [],
  objects: [...CLIENT, "--state", "--policy", "--limit", "--cursor", "--driver", "--config", "--memory", "--compute"],
  facts: [...CLIENT, "--idempotency-key"],
  decisions: [...CLIENT, "--limit", "--before"],
  explain: CLIENT,
  events: [...CLIENT, "--object", "--types", "--last-event-id", "--count"],
};

const cases = (Object.keys(SINGLE) as CommandName[]).flatMap((command) =>
  SINGLE[command].map((flag) => [command, flag] as const),
);

describe("the in-process entry points", () => {
  // With --help after it: a command that took the repeat would print its usage and return 0,
  // doing nothing else (serve starts no server).
  test.each(cases)("%s refuses %s given twice", async (command, flag) => {
    let out = "";
    const run = ENTRY_POINTS[command]([flag, "one", `${flag}=two`, "--help"], (s) => (out += s));
    await expect(run).rejects.toThrow(`${flag} is given more than once; it takes one value`);
    expect(out).toBe("");
  });
});

describe("through the real binary", () => {
  test("simulate --policy A --policy B is exit 2 with the usage, and simulates nothing", async () => {
    const r = await vigil([
      "simulate",
      "--policy",
      "on-demand",
      "--policy",
      "queue-worker",
      "--traffic",
      "fixtures/traffic/queue-burst.jsonl",
    ]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain("vigil simulate: --policy is given more than once; it takes one value\n");
    expect(r.err).toContain(commandUsage("simulate"));
  });

  test("a repeated --token is exit 2, sends nothing, and prints neither token", async () => {
    const r = await vigil(["objects", "list", "--url", "http://127.0.0.1:9", "--token", "sec-1", "--token", "sec-2"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("vigil objects: --token is given more than once");
    expect(r.err).not.toContain("sec-");
    expect(r.err).not.toContain("cannot reach");
  });
});

test("--compare still repeats: a row for each", async () => {
  const r = await runSimulateCli([
    "--policy",
    "queue-worker",
    "--compare",
    "on-demand",
    "--compare",
    "queue-worker",
    "--traffic",
    "fixtures/traffic/queue-burst.jsonl",
    "--json",
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const rows = (JSON.parse(r.stdout) as { rows: { name: string }[] }).rows;
  expect(rows.map((row) => row.name)).toEqual(["queue-worker", "on-demand"]);
});
