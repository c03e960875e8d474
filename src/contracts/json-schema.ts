// JSON Schema generated from the zod policy schema, so editors complete and check rule files.
// `npm run schemas` writes schemas/policy.schema.json; a test fails when the file drifts.

import { z } from "zod";
import { policySchema } from "./policy.ts";

export const POLICY_SCHEMA_FILE = "schemas/policy.schema.json";

export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://vigil.dev/schemas/policy.schema.json",
    title: "Vigil policy",
    description: "A Vigil policy file: json-rules-engine rules plus Vigil's envelope. See docs/policy-authors.md.",
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
