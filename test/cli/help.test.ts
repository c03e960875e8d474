// `vigil COMMAND --help`: every command prints its own usage and exits 0 without doing anything else,
// and an unknown option exits 2 naming the option, with the command's usage on stderr.

import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { eachConcurrently } from "../../src/core/concurrency.ts";
import { commandUsage, type CommandName } from "../../src/cli/usage.ts";
import { ENTRY_POINTS } from "./entry-points.ts";

const FLAGS: Record<CommandName, string[]> = {
  serve: ["--host", "--port", "--db", "--rules"],
  validate: ["--rules", "--json"],
  test: ["--rules", "--coverage", "--min-coverage", "--json"],
  replay: ["--object", "--db", "--json"],
  simulate: [
    "--policy",
    "--compare",
    "--traffic",
    "--db",
    "--object",
    "--autostop-after",
    "--json",
    "--report",
    "--generate",
  ],
  schema: ["--write", "--json"],
  objects: [
    "--url",
    "--token",
    "--json",
    "--state",
    "--policy",
    "--limit",
    "--cursor",
    "--driver",
    "--config",
    "--memory",
    "--compute",
  ],
  facts: ["--url", "--token", "--json", "--idempotency-key"],
  decisions: ["--url", "--token", "--json", "--limit", "--before"],
  explain: ["--url", "--token", "--json"],
  events: ["--url", "--token", "--json", "--object", "--types", "--last-event-id", "--count"],
};
const commands = Object.keys(FLAGS) as CommandName[];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The real binary, from the repository root as `npx vigil` runs it.
const vigil = (args: string[]) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/vigil.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    // A command that went on to do its work (a server that started) would not exit on its own.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

const expectUsage = (text: string, command: CommandName) => {
  expect(text).toContain(`usage: vigil ${command}`);
  for (const flag of [...FLAGS[command], "--help", "-h"]) expect(text).toContain(flag);
  expect(text).toContain("exit codes:");
};

describe("through the real binary", () => {
  test("--help and -h print the command's usage and exit 0; an unknown option exits 2 naming it", async () => {
    // Three commands (nine processes) at a time: all at once, on two cores beside the rest of
    // the suite, some took longer than the 30 s a run is given.
    const runs: { command: CommandName; long: Run; short: Run; unknown: Run }[] = [];
    await eachConcurrently(commands, 3, async (command) => {
      const [long, short, unknown] = await Promise.all([
        vigil([command, "--help"]),
        vigil([command, "-h"]),
        vigil([command, "--no-such-flag"]),
      ]);
      runs.push({ command, long, short, unknown });
    });
    expect(runs).toHaveLength(commands.length);
    for (const { command, long, short, unknown } of runs) {
      for (const run of [long, short]) {
        expect(run.code, `${command}: ${run.stderr}`).toBe(0);
        expect(run.stdout).toBe(`${commandUsage(command)}\n`);
        expectUsage(run.stdout, command);
        // Nothing else: serve did not start (it would print where it listens), schema printed no schema.
        expect(run.stderr).toBe("");
      }
      expect(unknown.code).toBe(2);
      expect(unknown.stdout).toBe("");
      expect(unknown.stderr).toContain(`vigil ${command}: Unknown option '--no-such-flag'`);
      expect(unknown.stderr).toContain(commandUsage(command));
    }
  }, 180_000);

  test("vigil, vigil help and vigil --help still print the overall usage, naming every command", async () => {
    const [bare, help, long] = await Promise.all([vigil([]), vigil(["help"]), vigil(["--help"])]);
    expect(bare.code).toBe(2);
    expect(help.code).toBe(0);
    expect(long.code).toBe(0);
    // Bare, it is a usage error: the same text, on stderr.
    expect(bare.stdout).toBe("");
    expect(help.stdout).toBe(bare.stderr);
    expect(long.stdout).toBe(bare.stderr);
    expect(help.stdout).toMatch(/^usage: vigil <command> \[options\]\n/);
    for (const command of commands) expect(help.stdout).toContain(`\n  ${command} `);
  });

  test("vigil help COMMAND prints the command's usage; a name that is no command is a usage error", async () => {
    const [test, bogus, two] = await Promise.all([
      vigil(["help", "test"]),
      vigil(["help", "bogus"]),
      vigil(["help", "test", "validate"]),
    ]);
    expect(test).toEqual({ code: 0, stdout: `${commandUsage("test")}\n`, stderr: "" });
    expect(bogus.code).toBe(2);
    expect(bogus.stdout).toBe("");
    expect(bogus.stderr).toMatch(/^vigil help: unknown command "bogus"\n\nusage: vigil <command> \[options\]\n/);
    expect(two.code).toBe(2);
    expect(two.stdout).toBe("");
    expect(two.stderr).toMatch(/^vigil help: takes one command, not 2\n/);
  });

  // What the command line said, quoted back in a usage error, reaches a terminal: an ESC in it
  // (an argument pasted from elsewhere, or made to) would clear the screen or set the window's
  // title. It is shown as escapes, as the client commands show what a server sent (docs/cli.md).
  test("an unknown command or option with control characters is quoted with them as escapes", async () => {
    const bad = "x\u001b]0;owned\u0007\u001b[2J\ny";
    const [command, help, option] = await Promise.all([
      vigil([bad]),
      vigil(["help", bad]),
      vigil(["validate", `--${bad}`]),
    ]);
    const escaped = "x\\u001b]0;owned\\u0007\\u001b[2J\\u000ay";
    for (const r of [command, help, option]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      // oxlint-disable-next-line no-control-regex
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(r.stderr.split("\n")[0]).toContain(escaped);
    }
    expect(command.stderr).toMatch(/^vigil: unknown command "x\\u001b/);
    expect(help.stderr).toMatch(/^vigil help: unknown command "x\\u001b/);
    expect(option.stderr).toMatch(/^vigil validate: Unknown option '--x\\u001b/);
  });
});

describe("what an option says", () => {
  // Every client command's --json was "the server's JSON reply"; events prints a line per event.
  test("events --help says --json prints one JSON object per event, not the server's reply", () => {
    const json = commandUsage("events")
      .split("\n")
      .find((line) => line.trimStart().startsWith("--json"));
    expect(json).toContain("one JSON object per event");
    expect(json).not.toContain("reply");
  });

  // A stream takes as long as it runs: the timeout bounds each connection until the stream starts.
  test("events --help says --timeout bounds each connection until the stream starts, not the whole request", () => {
    const usage = commandUsage("events");
    const at = usage.indexOf("  --timeout S");
    const timeout = usage.slice(at, usage.indexOf("  --json", at));
    expect(timeout).toContain("until the stream starts");
    expect(timeout).not.toContain("seconds a request may take");
  });
});

describe("the in-process entry points", () => {
  test.each(commands)("%s --help and -h write the usage and return 0", async (command) => {
    for (const flag of ["--help", "-h"]) {
      let out = "";
      expect(await ENTRY_POINTS[command]([flag], (s) => (out += s))).toBe(0);
      expect(out).toBe(`${commandUsage(command)}\n`);
      expectUsage(out, command);
    }
  });

  test.each(commands)("%s refuses an unknown option, naming it", async (command) => {
    await expect(ENTRY_POINTS[command](["--no-such-flag"], () => {})).rejects.toThrow("'--no-such-flag'");
  });
});
