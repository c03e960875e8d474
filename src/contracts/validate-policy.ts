// Policy validation: a parsed JSON document in, the policy (with warnings) or every error with
// its JSON path out.

import type { Problem } from "../core/errors.ts";
import { formatPath } from "../core/paths.ts";
import type { PolicyDocument } from "../core/policy.ts";
import { policyWarnings } from "../core/policy-warnings.ts";
import { nextTick } from "../core/schedule.ts";
import { NAME_HELP, NAME_PATTERN, policyLevelIssues, policySchema } from "./policy.ts";
import { documentBudgetIssues } from "./policy-budget.ts";
import { dedupeProblems, zodProblems } from "./problems.ts";

export type ValidationResult =
  { valid: true; policy: PolicyDocument; warnings: Problem[] } | { valid: false; errors: Problem[] };

/**
 * Validates a parsed policy document, within the budget of policy-budget.ts. `expectedName`
 * (the file's base name) must match `name`. Never throws, whatever the document.
 */
export function validatePolicy(doc: unknown, expectedName?: string): ValidationResult {
  // Size and nesting first, without recursion: everything below recurses through the document.
  const tooBig = documentBudgetIssues(doc);
  if (tooBig.length > 0)
    return { valid: false, errors: tooBig.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  const parsed = policySchema.safeParse(doc);
  if (!parsed.success) {
    // The schema's own cross-document checks run only on a well-shaped document; run them
    // anyway, so that every error is reported at once.
    const more = policyLevelIssues(doc).map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { valid: false, errors: dedupeProblems([...zodProblems(parsed.error), ...more]) };
  }
  const policy = parsed.data;
  if (expectedName !== undefined && policy.name !== expectedName) {
    // A file name no policy may take (`my policy.json`) cannot be matched: asking for it as the
    // name would send the author back to the name's own error.
    const message = NAME_PATTERN.test(expectedName)
      ? `must match the file name: expected "${expectedName}", got "${policy.name}"`
      : `must match the file name, and the file name "${expectedName}" is not a policy name (${NAME_HELP}): rename the file to ${policy.name}.json`;
    return { valid: false, errors: [{ path: "$.name", message }] };
  }
  return { valid: true, policy, warnings: [...policyWarnings(policy), ...scheduleWarnings(policy, Date.now())] };
}

/** A schedule with no tick from `now` on (each falls in a daylight-saving gap) never fires. */
function scheduleWarnings(policy: PolicyDocument, now: number): Problem[] {
  return (policy.schedules ?? []).flatMap((s, i) =>
    nextTick(s, now) === null
      ? [
          {
            path: `$.schedules[${i}].cron`,
            message: `never fires: each of its ticks falls at a local time ${s.timezone ?? "UTC"} skips when its clocks go forward`,
          },
        ]
      : [],
  );
}
