// The usage of every `vigil` command, written once: main.ts lists the commands from it, each command prints
// its own on --help. Imports nothing, so printing usage loads neither the server, the database nor hono.

export type CommandName = "serve" | "validate" | "test" | "replay" | "schema";

interface CommandUsage {
  /** The command line after `vigil`, as in the README's CLI table. */
  synopsis: string;
  /** The line(s) under the command in `vigil help`. */
  summary: string;
  /** What the command does, at the top of `vigil COMMAND --help`. */
  description: string;
  /** [flag, meaning]; -h/--help is added to every command. A meaning may run over several lines. */
  options: [string, string][];
  arguments: [string, string][];
  exits: [number, string][];
}

const USAGES: Record<CommandName, CommandUsage> = {
  serve: {
    synopsis: "serve [--host H] [--port P] [--db URL] [--rules DIR]",
    summary: "run the server (what `npm start` runs)",
    description:
      "Run the server until SIGINT or SIGTERM (what `npm start` runs). Configuration comes from the\n" +
      'environment (README.md, "Configuration"); these flags override it.',
    options: [
      ["--host H", "address to bind (VIGIL_HOST, default 127.0.0.1); non-loopback requires VIGIL_TOKENS"],
      ["--port P", "port (VIGIL_PORT, default 8080); 0 picks a free one"],
      ["--db URL", "libsql database URL (VIGIL_DB_URL, default file:data/vigil.db)"],
      ["--rules DIR", "directory of policy files (VIGIL_RULES_DIR, default rules)"],
    ],
    arguments: [],
    exits: [
      [0, "stopped by SIGINT or SIGTERM"],
      [1, "the server cannot start"],
      [2, "invalid configuration or usage"],
    ],
  },
  validate: {
    synopsis: "validate [--rules DIR] [FILE...]",
    summary: "check policy files; exit 0 when all are valid, 1 otherwise",
    description: "Check policy files; every error names the file and the JSON path.",
    options: [["--rules DIR", "check every *.json file in DIR (VIGIL_RULES_DIR, default rules) when no FILE is given"]],
    arguments: [["FILE...", "policy files to check instead"]],
    exits: [
      [0, "every policy is valid"],
      [1, "some policy is invalid, or there is none"],
      [2, "invalid usage, or DIR cannot be read"],
    ],
  },
  test: {
    synopsis: "test [--rules DIR] [--coverage] [--min-coverage N] [PATH...]",
    summary:
      "run fixture files (default fixtures/); exit 0 all pass, 1 any fails\n" +
      "(or coverage below N%), 2 a fixture is malformed",
    description: "Run fixture files on a virtual clock against the policies in DIR.",
    options: [
      ["--rules DIR", "directory of policy files (VIGIL_RULES_DIR, default rules)"],
      ["--coverage", "print each policy's coverage: rules fired, conditions seen true and false"],
      ["--min-coverage N", "fail when a policy's coverage is below N% (0 to 100); implies --coverage"],
    ],
    arguments: [["PATH...", "fixture files or directories of them (default fixtures/)"]],
    exits: [
      [0, "every fixture passes"],
      [1, "some fixture fails, or coverage is below N%"],
      [2, "a fixture is malformed, a PATH does not exist, or invalid usage"],
    ],
  },
  replay: {
    synopsis: "replay --object ID [--db URL] [--json] FILE",
    summary:
      "run the candidate policy in FILE over the object's recorded history;\n" +
      "exit 0 when no decision would differ, 1 when some would",
    description:
      "Run the candidate policy in FILE over the object's recorded history and print every decision\n" +
      "that would differ, side by side.",
    options: [
      ["--object ID", "the object whose history is replayed (required)"],
      ["--db URL", "libsql database URL (VIGIL_DB_URL, default file:data/vigil.db)"],
      ["--json", "print the report as JSON"],
    ],
    arguments: [["FILE", "the candidate policy file"]],
    exits: [
      [0, "no decision would differ"],
      [1, "some decision would differ"],
      [2, "the object or FILE is unusable, or invalid usage"],
    ],
  },
  schema: {
    synopsis: "schema [--write]",
    summary: "print (or write to schemas/policy.schema.json) the policy JSON Schema",
    description: "Print the policy JSON Schema, generated from the zod schema.",
    options: [["--write", "write it to schemas/policy.schema.json instead (what `npm run schemas` runs)"]],
    arguments: [],
    exits: [
      [0, "printed or written"],
      [2, "invalid usage"],
    ],
  },
};

export const COMMAND_NAMES = Object.keys(USAGES) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(USAGES, name);
}

/** Spread into a command's parseArgs options; the command answers `values.help` with {@link printUsage}. */
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** "usage: vigil COMMAND ...": the one line a command prints when its arguments do not add up. */
export const synopsisLine = (command: CommandName) => `usage: vigil ${USAGES[command].synopsis}`;

// A later line of a multi-line text, indented to start at `column`.
const indent = (text: string, column: number) => text.replaceAll("\n", `\n${" ".repeat(column)}`);

// Two columns, the second starting at `column`.
const table = (rows: [string, string][], column: number) =>
  rows.map(([left, right]) => `  ${left.padEnd(column - 2)}${indent(right, column)}`);

/** The whole usage of one command, as `vigil COMMAND --help` prints it. */
export function commandUsage(command: CommandName): string {
  const u = USAGES[command];
  const options: [string, string][] = [...u.options, ["-h, --help", "print this usage and exit"]];
  const width = Math.max(...[...options, ...u.arguments].map(([left]) => left.length)) + 4;
  const sections = [synopsisLine(command), u.description, ["options:", ...table(options, width)].join("\n")];
  if (u.arguments.length > 0) sections.push(["arguments:", ...table(u.arguments, width)].join("\n"));
  sections.push(
    [
      "exit codes:",
      ...table(
        u.exits.map(([code, meaning]) => [String(code), meaning]),
        5,
      ),
    ].join("\n"),
  );
  return sections.join("\n\n");
}

/** Writes the command's usage and returns its exit code, 0: what every command does on --help. */
export function printUsage(command: CommandName, out: (s: string) => void): number {
  out(`${commandUsage(command)}\n`);
  return 0;
}

/** The overall usage, as `vigil`, `vigil help` and `vigil --help` print it. */
export function overallUsage(): string {
  const commands = COMMAND_NAMES.map((name) => {
    const { synopsis, summary } = USAGES[name];
    const head = `  ${synopsis}`;
    // The summary starts on the synopsis's line when there is room, else on the next.
    return `${head.length + 2 <= 25 ? head.padEnd(25) : `${head}\n${" ".repeat(25)}`}${indent(summary, 25)}`;
  });
  return `usage: vigil <command> [options]

commands:
${commands.join("\n")}

Configuration comes from the environment (VIGIL_HOST, VIGIL_PORT, VIGIL_DB_URL, VIGIL_RULES_DIR,
VIGIL_TOKENS, ...); flags override it. See README.md.`;
}
