// `vigil schema [--write]`: the policy JSON Schema, generated from the zod schema.

import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { POLICY_SCHEMA_FILE, policyJsonSchemaText } from "../contracts/json-schema.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";

export async function runSchema(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...HELP_OPTION, write: { type: "boolean", default: false } },
    strict: true,
  });
  if (values.help) return printUsage("schema", out);
  const text = policyJsonSchemaText();
  if (values.write) {
    writeFileSync(POLICY_SCHEMA_FILE, text);
    out(`wrote ${POLICY_SCHEMA_FILE}\n`);
  } else out(text);
  return 0;
}
