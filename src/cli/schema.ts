// `vigil schema [--write]`: the policy JSON Schema, generated from the zod schema.

import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { POLICY_SCHEMA_FILE, policyJsonSchemaText } from "../contracts/json-schema.ts";

export async function runSchema(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { write: { type: "boolean", default: false } }, strict: true });
  const text = policyJsonSchemaText();
  if (values.write) {
    writeFileSync(POLICY_SCHEMA_FILE, text);
    process.stdout.write(`wrote ${POLICY_SCHEMA_FILE}\n`);
  } else process.stdout.write(text);
  return 0;
}
