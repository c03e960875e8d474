// Policy validation: a parsed JSON document in, the policy (with warnings) or every error with
// its JSON path out.

import type { Problem } from "../core/errors.ts";
import { formatPath } from "../core/paths.ts";
import type { PolicyDocument } from "../core/policy.ts";
import { policyWarnings } from "../core/policy-warnings.ts";
import { policyLevelIssues, policySchema } from "./policy.ts";
import { dedupeProblems, zodProblems } from "./problems.ts";

export type ValidationResult =
  { valid: true; policy: PolicyDocument; warnings: Problem[] } | { valid: false; errors: Problem[] };

/** Validates a parsed policy document. `expectedName` (the file's base name) must match `name`. */
export function validatePolicy(doc: unknown, expectedName?: string): ValidationResult {
  const parsed = policySchema.safeParse(doc);
  if (!parsed.success) {
    // The schema's own cross-document checks run only on a well-shaped document; run them
    // anyway, so that every error is reported at once.
    const more = policyLevelIssues(doc).map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { valid: false, errors: dedupeProblems([...zodProblems(parsed.error), ...more]) };
  }
  const policy = parsed.data;
  if (expectedName !== undefined && policy.name !== expectedName) {
    return {
      valid: false,
      errors: [
        { path: "$.name", message: `must match the file name: expected "${expectedName}", got "${policy.name}"` },
      ],
    };
  }
  return { valid: true, policy, warnings: policyWarnings(policy) };
}
