// The usage of every `vigil` command, written once: main.ts lists the commands from it, each command prints
// its own on --help, and the one table of exit codes lives here. Imports nothing, so printing usage loads
// neither the server, the database nor hono. The file is past 400 lines because it is that one
// place: every command's synopsis, options, arguments and exits, side by side.

export type CommandName =
  | "serve"
  | "validate"
  | "test"
  | "replay"
  | "simulate"
  | "schema"
  | "objects"
  | "facts"
  | "decisions"
  | "explain"
  | "events";

/**
 * The exit codes of every command, one table for all (docs/cli.md repeats it; a test holds the two
 * together). The local commands keep the codes they always had; the client commands add 3 to 5.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, refused: 4, serverError: 5 } as const;

export const EXIT_CODES: [number, string][] = [
  [EXIT.ok, "success: done; every policy valid, every fixture passed, no replay difference"],
  [
    EXIT.failed,
    "a check failed (an invalid policy, a failing fixture, coverage below the minimum, a\n" +
      "replay difference), the object or decision asked for does not exist (404), or the\n" +
      "server could not start, overran its drain or lost its lease (serve)",
  ],
  [
    EXIT.usage,
    "invalid usage or configuration, an input that cannot be used (a file, JSON, a fixture), or output that cannot be written (a full disk: `cannot write the output`)",
  ],
  [EXIT.unreachable, "the server cannot be reached (connection refused, unknown host, timed out)"],
  [EXIT.refused, "the server refused the token: 401 (missing or not valid) or 403 (lacks the scope)"],
  [
    EXIT.serverError,
    "the server answered with another error (409, 422, 429, 5xx...), printed as its problem, or\n" +
      "with a reply that is not what the command expects (another service on the URL, a reply cut off, a\n" +
      "redirect)",
  ],
];

/** The exits of a command that talks to a server: every row of the table. */
const CLIENT_EXITS = EXIT_CODES;

interface CommandUsage {
  /** The command line(s) after `vigil`, one per subcommand, as in docs/cli.md. */
  synopsis: string;
  /** What `vigil help` lists instead of a long synopsis. */
  overview?: string;
  /** The line(s) under the command in `vigil help`. */
  summary: string;
  /** What the command does, at the top of `vigil COMMAND --help`. */
  description: string;
  /** [flag, meaning]; -h/--help is added to every command. A meaning may run over several lines. */
  options: [string, string][];
  arguments: [string, string][];
  exits: [number, string][];
}

const JSON_OPTION: [string, string] = ["--json", "print machine-readable JSON on stdout instead of text"];

/** What every client command takes: where the server is, the token, and --json. */
const CLIENT_OPTIONS: [string, string][] = [
  ["--url URL", "the server (VIGIL_URL, default http://127.0.0.1:8080)"],
  ["--token TOKEN", "bearer token (VIGIL_TOKEN); not needed for a server without VIGIL_TOKENS"],
  ["--timeout S", "seconds a request may take (VIGIL_TIMEOUT, default 30), then exit 3"],
  ["--json", "print the server's JSON reply on stdout instead of text"],
];

/** {@link CLIENT_OPTIONS} for a command that says otherwise what some of them do (by flag, as the table names it). */
const clientOptions = (own: Record<string, string>): [string, string][] =>
  CLIENT_OPTIONS.map(([flag, meaning]) => [flag, own[flag] ?? meaning]);

const USAGES: Record<CommandName, CommandUsage> = {
  serve: {
    synopsis: "serve [--host H] [--port P] [--db URL] [--rules DIR]",
    summary: "run the server (what `npm start` runs)",
    description:
      "Run the server until SIGINT, SIGTERM or SIGHUP (what `npm start` runs). Configuration comes from the\n" +
      'environment (README.md, "Configuration"); these flags override it.',
    options: [
      ["--host H", "address to bind (VIGIL_HOST, default 127.0.0.1); non-loopback requires VIGIL_TOKENS"],
      ["--port P", "port (VIGIL_PORT, default 8080); 0 picks a free one"],
      ["--db URL", "libsql database URL (VIGIL_DB_URL, default file:data/vigil.db)"],
      ["--rules DIR", "directory of policy files (VIGIL_RULES_DIR, default rules)"],
    ],
    arguments: [],
    exits: [
      [0, "stopped by SIGINT, SIGTERM or SIGHUP"],
      [1, "the server cannot start, lost its governing lease, or its shutdown overran VIGIL_DRAIN_TIMEOUT"],
      [2, "invalid configuration or usage"],
    ],
  },
  validate: {
    synopsis: "validate [--rules DIR] [--json] [FILE...]",
    summary: "check policy files; exit 0 when all are valid, 1 otherwise",
    description: "Check policy files; every error names the file and the JSON path.",
    options: [
      [
        "--rules DIR",
        "check every *.json file in DIR but hidden ones (VIGIL_RULES_DIR, default rules) when no FILE is given",
      ],
      JSON_OPTION,
    ],
    arguments: [["FILE...", "policy files to check instead"]],
    exits: [
      [0, "every policy is valid"],
      [1, "some policy is invalid, or there is none"],
      [2, "invalid usage, a FILE that does not exist or is a directory, or a DIR that cannot be read"],
    ],
  },
  test: {
    synopsis: "test [--rules DIR] [--coverage] [--min-coverage N] [--json] [PATH...]",
    summary:
      "run fixture files (default fixtures/); exit 0 all pass, 1 any fails\n" +
      "(or a policy is refused, or coverage below N%), 2 a fixture is malformed or there is none",
    description: "Run fixture files on a virtual clock against the policies in DIR.",
    options: [
      ["--rules DIR", "directory of policy files (VIGIL_RULES_DIR, default rules)"],
      ["--coverage", "print each policy's coverage: rules fired, conditions seen true and false"],
      ["--min-coverage N", "fail when a policy's coverage is below N% (0 to 100); implies --coverage"],
      JSON_OPTION,
    ],
    arguments: [
      ["PATH...", "fixture files (read whatever their name) or directories searched for *.json (default fixtures/)"],
    ],
    exits: [
      [0, "every fixture passes and every policy in DIR is valid"],
      [1, "some fixture fails, a policy in DIR is refused, or coverage is below N%"],
      [2, "a fixture is malformed, a PATH does not exist, no fixture was found, or invalid usage"],
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
  simulate: {
    synopsis:
      "simulate --policy NAME [--compare NAME...] (--traffic FILE | --db URL --object ID...) [OPTION...]\n" +
      "simulate --generate burst|nightly|trickle [--objects N] [--days D] [--seed S] [--start ISO]",
    overview: "simulate --policy NAME --traffic FILE",
    summary: "compare policies on traffic: time awake against how long facts wait (docs/simulate.md)",
    description:
      "Replay facts through each policy on a virtual clock, the substrate taking the given latencies, and print\n" +
      "per policy the seconds in each state, wakes, how long facts waited for an active object (p50, p99, max),\n" +
      "and the saving against objects that are always on.",
    options: [
      ["--policy NAME", "the policy to simulate: one name (the others go in --compare)"],
      ["--compare NAME", "another policy beside it; repeat, or separate names by commas"],
      ["--traffic FILE", 'facts: one {"at": ISO, "objectId": ID, "facts": {...}} a line'],
      ["--db URL", "replay the recorded history of --object objects instead"],
      ["--object ID", "an object of --db; repeat, or separate ids by commas"],
      ["--rules DIR", "directory of policy files (VIGIL_RULES_DIR, default rules)"],
      ["--start-latency DUR", "how long a start takes (ISO 8601 or ms; default PT2S, at most PT10M)"],
      ["--resume-latency DUR", "how long a start from suspended takes (default: the start latency)"],
      [
        "--autostop-after DUR",
        "add the row autostop(DUR): start on any fact, stop after DUR without one\n(at most 100 years)",
      ],
      ["--until ISO", "end the window here (default: all dormant again after the last fact, at most 24 h)"],
      ["--json", "print the figures as JSON"],
      ["--report FILE", "draw timelines and waits to FILE.svg, or FILE.html with the table"],
      ["--sample N", "objects drawn per policy in the report (default 8)"],
      ["--generate SHAPE", "print synthetic traffic instead: burst, nightly or trickle"],
      ["--objects N", "--generate: objects (default 10)"],
      ["--days D", "--generate: days (default 1)"],
      ["--seed S", "--generate: the same seed gives the same traffic (default 1)"],
      ["--start ISO", "--generate: the first day (default 2026-03-02)"],
    ],
    arguments: [],
    exits: [
      [0, "done"],
      [2, "invalid usage, or an input that cannot be used (a traffic line, a policy, an object)"],
    ],
  },
  schema: {
    synopsis: "schema [--write] [--json]",
    summary: "print (or write to schemas/policy.schema.json) the policy JSON Schema",
    description: "Print the policy JSON Schema, generated from the zod schema.",
    options: [
      ["--write", "write it to schemas/policy.schema.json instead (what `npm run schemas` runs)"],
      ["--json", 'with --write, print {"wrote": FILE}; the schema itself is JSON already'],
    ],
    arguments: [],
    exits: [
      [0, "printed or written"],
      [2, "invalid usage"],
    ],
  },
  objects: {
    synopsis:
      "objects list [--state S] [--policy NAME] [--limit N] [--cursor C]\n" +
      "objects get ID\n" +
      "objects put ID --policy NAME [--driver D [--config JSON]] [--memory JSON]\n" +
      "objects delete ID [--compute stop|keep]",
    overview: "objects list|get|put|delete",
    summary: "list, show, create or update, and delete governed objects",
    description:
      "List, show, create or update (PUT), and delete the objects a running server governs.\n" +
      "list and get need the scope read; put and delete need write:objects.",
    options: [
      ...CLIENT_OPTIONS,
      ["--state S", "list: only objects in state S (dormant, waking, active, sleeping, failed)"],
      ["--policy NAME", "list: only objects governed by NAME; put: the policy to govern by (required); one name"],
      ["--limit N", "list: at most N objects (1 to 500, default 100)"],
      ["--cursor C", "list: the next page, from the previous page's nextCursor"],
      ["--driver D", "put: bind to the substrate driver D (simulated, process, fly)"],
      ["--config JSON", "put: the driver's config; JSON, @FILE or - (stdin)"],
      ["--memory JSON", "put: the object's memory when it is created; JSON, @FILE or - (stdin)"],
      ["--compute stop|keep", "delete: stop the object's compute first (default), or leave it running"],
    ],
    arguments: [["ID", "an object id: 1 to 128 characters of A-Z a-z 0-9 . _ : -"]],
    exits: CLIENT_EXITS,
  },
  facts: {
    synopsis: "facts post ID JSON|@FILE|- [--idempotency-key K]",
    overview: "facts post ID JSON|@FILE|-",
    summary: "send facts (a JSON merge patch of the memory) to an object",
    description:
      "Send facts to an object: a JSON Merge Patch of its memory, given inline, as @FILE, or as -\n" +
      "(read from stdin). Prints the decision the arrival took. Needs the scope write:facts.",
    options: [
      ...CLIENT_OPTIONS,
      ["--idempotency-key K", "a repeat with the same key and facts applies nothing and replies as before"],
    ],
    arguments: [
      ["ID", "the object"],
      ["JSON|@FILE|-", 'the facts, e.g. \'{"queue": {"depth": 3}}\''],
    ],
    exits: CLIENT_EXITS,
  },
  decisions: {
    synopsis: "decisions list OBJECT_ID [--limit N] [--before DECISION_ID]\ndecisions get DECISION_ID",
    overview: "decisions list|get",
    summary: "an object's decisions, newest first, or one decision",
    description:
      "List an object's decisions, newest first, or show one decision. Needs the scope read.\n" +
      "`vigil explain DECISION_ID` shows a decision's condition tree.",
    options: [
      ...CLIENT_OPTIONS,
      ["--limit N", "list: at most N decisions (1 to 500, default 50)"],
      ["--before DECISION_ID", "list: the decisions older than this one (the next page)"],
    ],
    arguments: [
      ["OBJECT_ID", "list: the object"],
      ["DECISION_ID", "get: the decision"],
    ],
    exits: CLIENT_EXITS,
  },
  explain: {
    synopsis: "explain DECISION_ID",
    summary: "why a decision came out as it did: each rule and its condition tree",
    description:
      "Show why a decision came out as it did: its summary, then each rule, fired or not, with its\n" +
      "condition tree (✓ true, ✗ false, ? not evaluated) and the value each fact had. Needs read.",
    options: CLIENT_OPTIONS,
    arguments: [["DECISION_ID", "the decision (from `vigil decisions list` or a facts reply)"]],
    exits: CLIENT_EXITS,
  },
  events: {
    synopsis: "events [--object ID] [--types decision,action,deletion] [--last-event-id ID] [--count N]",
    overview: "events [--object ID]",
    summary: "follow decisions, actions and deletions as they happen (Server-Sent Events)",
    description:
      "Follow the server's event stream (GET /v1/events): a line per decision, per action and per\n" +
      "deleted object, or with --json one JSON object per line ({event, id, data}; a deletion has\n" +
      "no id). When the connection drops, it reconnects and the server first sends the decisions\n" +
      "recorded after the last one printed (before any, after those there were when it began).\n" +
      "Runs until Ctrl-C (or --count). Needs the scope read.",
    options: [
      ...clientOptions({
        "--timeout S":
          "seconds each connection may take until the stream starts (VIGIL_TIMEOUT, default 30):\n" +
          "past it the first exits 3, a reconnection is tried again",
        "--json": "print one JSON object per event on stdout, a line each ({event, id, data}), instead of text",
      }),
      ["--object ID", "only the events of this object"],
      ["--types T", "only these event types, comma-separated: decision, action, deletion"],
      ["--last-event-id ID", "start after this decision id: the decisions recorded since are sent first"],
      ["--count N", "exit 0 after N events"],
    ],
    arguments: [],
    exits: CLIENT_EXITS,
  },
};

export const COMMAND_NAMES = Object.keys(USAGES) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(USAGES, name);
}

/** Spread into a command's parseArgs options; the command answers `values.help` with {@link printUsage}. */
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** `validate` and `test` given `--rules ""` (an empty VIGIL_RULES_DIR is taken for none). */
export const EMPTY_RULES = "--rules: must not be empty (leave it out for VIGIL_RULES_DIR, or rules)";

/** The options every client command parses (see CLIENT_OPTIONS for their meaning). */
export const CLIENT_PARSE_OPTIONS = {
  ...HELP_OPTION,
  url: { type: "string" },
  token: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** "usage: vigil COMMAND ...": what a command prints when its arguments do not add up; a line per subcommand. */
export const synopsisLine = (command: CommandName) =>
  `usage: ${USAGES[command].synopsis
    .split("\n")
    .map((line) => `vigil ${line}`)
    .join("\n       ")}`;

// A later line of a multi-line text, indented to start at `column`.
const indent = (text: string, column: number) => text.replaceAll("\n", `\n${" ".repeat(column)}`);

// Two columns, the second starting at `column`.
const table = (rows: [string, string][], column: number) =>
  rows.map(([left, right]) => `  ${left.padEnd(column - 2)}${indent(right, column)}`);

const exitTable = (exits: [number, string][]) =>
  [
    "exit codes:",
    ...table(
      exits.map(([code, meaning]) => [String(code), meaning]),
      5,
    ),
  ].join("\n");

/** The whole usage of one command, as `vigil COMMAND --help` prints it. */
export function commandUsage(command: CommandName): string {
  const u = USAGES[command];
  const options: [string, string][] = [...u.options, ["-h, --help", "print this usage and exit"]];
  const width = Math.max(...[...options, ...u.arguments].map(([left]) => left.length)) + 4;
  const sections = [synopsisLine(command), u.description, ["options:", ...table(options, width)].join("\n")];
  if (u.arguments.length > 0) sections.push(["arguments:", ...table(u.arguments, width)].join("\n"));
  sections.push(exitTable(u.exits));
  return sections.join("\n\n");
}

/** Writes the command's usage and returns its exit code, 0: what every command does on --help. */
export function printUsage(command: CommandName, out: (s: string) => void): number {
  out(`${commandUsage(command)}\n`);
  return 0;
}

const COLUMN = 32;

/** The commands of one group, as `vigil help` lists them. */
function listing(names: CommandName[]): string {
  return names
    .map((name) => {
      const { synopsis, overview, summary } = USAGES[name];
      const head = `  ${overview ?? synopsis}`;
      // The summary starts on the synopsis's line when there is room, else on the next.
      return `${head.length + 2 <= COLUMN ? head.padEnd(COLUMN) : `${head}\n${" ".repeat(COLUMN)}`}${indent(summary, COLUMN)}`;
    })
    .join("\n");
}

/** The commands that talk to a running server; every other one works on local files. */
export const CLIENT_COMMANDS: readonly CommandName[] = ["objects", "facts", "decisions", "explain", "events"];

/** The overall usage, as `vigil`, `vigil help` and `vigil --help` print it. */
export function overallUsage(): string {
  const local = COMMAND_NAMES.filter((name) => !CLIENT_COMMANDS.includes(name));
  return `usage: vigil <command> [options]

commands:
${listing(local)}

commands that talk to a running server (--url or VIGIL_URL, --token or VIGIL_TOKEN):
${listing([...CLIENT_COMMANDS])}

Every command takes --help (its options, as "vigil help COMMAND" prints them) and --json
(machine-readable output on stdout; serve excepted). Configuration comes from the environment
(VIGIL_HOST, VIGIL_PORT, VIGIL_DB_URL, VIGIL_RULES_DIR, VIGIL_TOKENS, ...); flags override it.
See README.md and docs/cli.md.

${exitTable(EXIT_CODES)}`;
}
