// One voice for validation messages: plain words, what was found, and what to send instead.
// zod's own wording ("Invalid input: expected record, received array") never reaches a client:
// `configureMessages()` installs `plainMessage` as zod's error map for the whole process, and
// the policy schema words its own domain errors (operators, event types) here.

import { z } from "zod";
import { describeJson } from "../core/json.ts";
import { OPERATOR_DECORATORS, OPERATORS, splitOperator } from "../core/vocabulary.ts";

const EVENT_TYPES = "wake, hold-active, dormancy, schedule or cancel";

const EXPECTED: Record<string, string> = {
  object: "an object",
  record: "an object",
  array: "an array",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  null: "null",
  // A required key whose schema takes any value (z.unknown()), missing.
  nonoptional: "a value",
};

/** What a value of the wrong kind is told: `expected a number, got the string "x"`. */
export const wrongType = (expected: string, input: unknown): string =>
  `expected ${EXPECTED[expected] ?? expected}, got ${describeJson(input)}`;

/** zod's issue in plain words; undefined keeps the schema's own message. */
export function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return `required: expected ${EXPECTED[issue.expected] ?? issue.expected}`;
      return wrongType(issue.expected, issue.input);
    }
    case "too_big":
    case "too_small": {
      const bound = String(issue.code === "too_big" ? issue.maximum : issue.minimum);
      const kind = issue.origin;
      const at =
        issue.code === "too_big"
          ? issue.inclusive
            ? "at most"
            : "less than"
          : issue.inclusive
            ? "at least"
            : "more than";
      if (kind === "string") {
        // "at least 1 characters long" says in a roundabout way (and wrong in number) what it means.
        if (issue.code === "too_small" && (bound === "1" ? issue.inclusive : bound === "0" && !issue.inclusive))
          return "must not be empty";
        return `must be ${at} ${bound} ${bound === "1" ? "character" : "characters"} long`;
      }
      if (kind === "array" || kind === "set") return `must hold ${at} ${bound} ${bound === "1" ? "item" : "items"}`;
      if (kind === "number" || kind === "int" || kind === "bigint") return `must be ${at} ${bound}`;
      return undefined;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "datetime"
        ? "must be an ISO 8601 date and time with a zone, e.g. 2026-03-01T08:00:00Z"
        : `must be a valid ${issue.format}`;
    default:
      return undefined;
  }
}

let configured = false;

/** Installs {@link plainMessage} for every zod schema in the process (idempotent). */
export function configureMessages(): void {
  if (configured) return;
  configured = true;
  z.config({ customError: plainMessage });
}
configureMessages();

/** Edits from `a` to `b` (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest of `names` to `word`, when it is close enough to be a typo. */
export function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const name of names) {
    const d = distance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

const didYouMean = (word: string, names: readonly string[]) => {
  const guess = closest(word, names);
  return guess ? ` (did you mean "${guess}"?)` : "";
};

/** Why `op` is not an operator: the unknown part named, the valid ones listed. */
export function unknownOperatorMessage(op: string): string {
  const { decorators, base } = splitOperator(op);
  const badDecorator = decorators.find((d) => !(OPERATOR_DECORATORS as readonly string[]).includes(d));
  if (badDecorator !== undefined)
    return (
      `unknown decorator "${badDecorator}" in "${op}"${didYouMean(badDecorator, OPERATOR_DECORATORS)}: ` +
      `the decorators are ${OPERATOR_DECORATORS.join(", ")}, written before the operator (not:equal)`
    );
  return (
    `unknown operator "${base}"${didYouMean(base, OPERATORS)}: use one of ${OPERATORS.join(", ")}, ` +
    `optionally decorated (not:equal, someFact:greaterThan)`
  );
}

/** Why an event's type is refused: missing, or not one of the five. */
export function eventTypeMessage(event: unknown): string {
  const type = (event as { type?: unknown } | null)?.type;
  if (type === undefined) return `the event has no "type": use ${EVENT_TYPES}`;
  if (typeof type !== "string") return `the event's "type" must be a string: use ${EVENT_TYPES}`;
  return `unknown event type "${type}"${didYouMean(type, EVENT_TYPES.split(/, | or /))}: use ${EVENT_TYPES}`;
}
