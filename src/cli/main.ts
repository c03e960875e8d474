// `vigil <command>`: serve, validate, test, replay, schema, and the commands that talk to a running
// server (objects, facts, decisions, explain, events). Each command lives in its own file and
// returns an exit code; this file only routes and prints usage (the texts are in usage.ts).

import { isatty } from "node:tty";
import { commandUsage, EXIT, isCommandName, overallUsage, type CommandName } from "./usage.ts";
import { failureMessage } from "./output.ts";
import { printable } from "./printable.ts";

// Loaded on demand: `vigil validate` need not load the server, the database or hono.
const commands: Record<CommandName, (args: string[]) => Promise<number>> = {
  serve: async (args) => (await import("./serve.ts")).runServe(args),
  validate: async (args) => (await import("./validate.ts")).runValidate(args),
  test: async (args) => (await import("./test.ts")).runTest(args),
  replay: async (args) => (await import("./replay.ts")).runReplay(args),
  simulate: async (args) => (await import("./simulate.ts")).runSimulate(args),
  schema: async (args) => (await import("./schema.ts")).runSchema(args),
  objects: async (args) => (await import("./objects.ts")).runObjects(args),
  facts: async (args) => (await import("./facts.ts")).runFacts(args),
  decisions: async (args) => (await import("./decisions.ts")).runDecisions(args),
  explain: async (args) => (await import("./explain.ts")).runExplain(args),
  events: async (args) => (await import("./events.ts")).runEvents(args),
};

/** stdin, stdout and stderr that are a terminal as the command starts (see serverExit). */
const terminals = [0, 1, 2].filter((fd) => isatty(fd));

/**
 * Ends `vigil serve` with `code`, or by SIGHUP when the terminal it ran in was closed meanwhile
 * (the hang-up it drained on), as a hang-up ends any program. Node's exit puts back the settings
 * of each of stdin, stdout and stderr that was a terminal; a closed terminal refuses (EIO), and
 * Node 20 takes that for a fault of its own and aborts: SIGABRT, an "Assertion failed" and a core
 * dump where they are kept, after a drain that went well. A closed terminal is one no more
 * (isatty asks it, and it answers EIO). The signal, sent to itself, ends the process before kill
 * returns; the exit after it is only in case it did not.
 */
function serverExit(code: number): void {
  if (terminals.some((fd) => !isatty(fd))) {
    process.removeAllListeners("SIGHUP");
    process.kill(process.pid, "SIGHUP");
  }
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `vigil help COMMAND` is `vigil COMMAND --help`; a name that is no command, a usage error.
  if (command === "help" && rest.length > 0) {
    const [asked, ...more] = rest;
    if (more.length > 0 || !isCommandName(asked!)) {
      const what = more.length > 0 ? `takes one command, not ${rest.length}` : `unknown command "${printable(asked!)}"`;
      process.stderr.write(`vigil help: ${what}\n\n${overallUsage()}\n`);
      return 2;
    }
    process.stdout.write(`${commandUsage(asked)}\n`);
    return 0;
  }
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    // Asked for, it is the output; with no command at all, a usage error (stderr, as any failure).
    (command === undefined ? process.stderr : process.stdout).write(`${overallUsage()}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!isCommandName(command)) {
    process.stderr.write(`vigil: unknown command "${printable(command)}"\n\n${overallUsage()}\n`);
    return 2;
  }
  try {
    return await commands[command](rest);
  } catch (e) {
    // parseArgs refused the arguments (an unknown option, a missing value...): show what it takes.
    const refused = String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_");
    // Its one line quotes the command line (a line break in it too); any other, each line printable.
    const message = refused ? printable(failureMessage(e)) : failureMessage(e).split("\n").map(printable).join("\n");
    process.stderr.write(`vigil ${command}: ${message}\n`);
    if (refused) process.stderr.write(`\n${commandUsage(command)}\n`);
    return 2;
  }
}

// A reader that stopped reading (`vigil decisions list | head -1`) is not an error of ours:
// stop quietly, as other command-line tools do, instead of crashing on EPIPE. A command that had
// finished keeps its own exit code; one cut short did not finish its work, so it exits 2 (its
// output could not be written), never 0: `vigil test | head -1` in a CI job must not pass
// fixtures it never ran. (process.exitCode is set only once the command has returned.)
// `serve` prints one line there, and its log goes to stderr: a server whose stdout reader is gone
// governs on, and stops as on a signal (draining, its lease released), never by exiting mid-run.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE" && process.argv[2] === "serve") return;
  if (e.code === "EPIPE") process.exit(process.exitCode ?? EXIT.usage);
  // Any other (a full disk, ENOSPC; a pipe out of buffers, ENOBUFS) cut the output short: say so
  // in one line, as any failure, and exit 2 rather than with a stack trace.
  process.stderr.write(`vigil ${process.argv[2]}: cannot write the output: ${failureMessage(e)}\n`);
  process.exit(2);
});
// A stderr that cannot be written (its reader gone) leaves no one to tell: the message is lost and
// the exit code still says what happened. Unhandled, the write's error crashed the command with
// exit 1, which a script reads as "does not exist" (404) or "a check failed".
process.stderr.on("error", () => {});

const code = await main(process.argv.slice(2));
// `serve` has stopped everything it started by now; exit even if a handle (a socket a driver
// left open) would keep the process alive past the drain timeout.
if (process.argv[2] === "serve") serverExit(code);
process.exitCode = code;
