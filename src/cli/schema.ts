// `vigil schema [--write] [--json]`: the policy JSON Schema, generated from the zod schema. The
// schema is JSON already; --json changes only what --write prints ({"wrote": FILE}).

import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseCommandLine } from "./parse-args.ts";
import { POLICY_SCHEMA_FILE, policyJsonSchemaText } from "../contracts/json-schema.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";
import { writeStderr } from "./printable.ts";

export async function runSchema(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = writeStderr,
): Promise<number> {
  const { values } = parseCommandLine({
    args,
    options: { ...HELP_OPTION, write: { type: "boolean", default: false }, json: { type: "boolean", default: false } },
    strict: true,
  });
  if (values.help) return printUsage("schema", out);
  const text = policyJsonSchemaText();
  if (values.write) {
    try {
      writeFileSync(POLICY_SCHEMA_FILE, text);
    } catch (e) {
      // Run outside the repository's root, its directory is not there: `no such file or
      // directory` named the file, as if the file, which --write makes, had to exist.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      err(
        `vigil schema: cannot write ${POLICY_SCHEMA_FILE}: there is no directory ${dirname(POLICY_SCHEMA_FILE)} here (run it at the repository's root, as \`npm run schemas\` does)\n`,
      );
      return 2;
    }
    out(values.json ? `${JSON.stringify({ wrote: POLICY_SCHEMA_FILE })}\n` : `wrote ${POLICY_SCHEMA_FILE}\n`);
  } else out(text);
  return 0;
}
