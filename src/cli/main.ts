// `vigil <command>`: serve, validate, test, schema. Each command lives in its own file and
// returns an exit code; this file only routes and prints usage.

const USAGE = `usage: vigil <command> [options]

commands:
  serve [--host H] [--port P] [--db URL] [--rules DIR]
                         run the server (what \`npm start\` runs)
  validate [--rules DIR] [FILE...]
                         check policy files; exit 0 when all are valid, 1 otherwise
  test [--rules DIR] [--coverage] [--min-coverage N] [PATH...]
                         run fixture files (default fixtures/); exit 0 all pass, 1 any fails
                         (or coverage below N%), 2 a fixture is malformed
  replay --object ID [--db URL] [--json] FILE
                         run the candidate policy in FILE over the object's recorded history;
                         exit 0 when no decision would differ, 1 when some would
  schema [--write]       print (or write to schemas/policy.schema.json) the policy JSON Schema

Configuration comes from the environment (VIGIL_HOST, VIGIL_PORT, VIGIL_DB_URL, VIGIL_RULES_DIR,
VIGIL_TOKENS, ...); flags override it. See README.md.`;

// Loaded on demand: `vigil validate` need not load the server, the database or hono.
const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: async (args) => (await import("./serve.ts")).runServe(args),
  validate: async (args) => (await import("./validate.ts")).runValidate(args),
  test: async (args) => (await import("./test.ts")).runTest(args),
  replay: async (args) => (await import("./replay.ts")).runReplay(args),
  schema: async (args) => (await import("./schema.ts")).runSchema(args),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`vigil: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    process.stderr.write(`vigil ${command}: ${(e as Error).message}\n`);
    return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
