// What the built-in facts hold whatever the object (core/types.ts Trigger and Observation), where
// their shape says so: what policy validation (contracts/policy.ts) refuses a comparison on when
// json-rules-engine throws on it in every evaluation, and what the policy warnings
// (policy-warnings.ts) know is never missing. One table for both.

import { formatPath, type PathSegment } from "./paths.ts";

/** What a fact holds: words for a message, and values it may take (`undefined`: missing). */
export interface FactShape {
  what: string;
  samples: unknown[];
}

/** The built-in facts that are never objects (a path on them is ignored), and what they are. */
export const SCALAR_FACTS: Readonly<Record<string, FactShape>> = {
  now: { what: "a number", samples: [0] },
  idleMs: { what: "a number", samples: [0] },
  stateAgeMs: { what: "a number", samples: [0] },
  state: { what: "a string", samples: ["active"] },
};

/**
 * Paths of the built-in facts whose value has one shape in every evaluation, or that shape when it
 * is there: a trigger always has its `kind`, and may have a `name` and `late`; an observation has
 * its `status` (and its `at`, but for `{"status": "unknown"}` before the first one); `changed` is
 * a list of path strings, each of its items written `$[]`.
 */
const KNOWN_PATHS: Readonly<Record<string, Readonly<Record<string, FactShape>>>> = {
  trigger: {
    "$.kind": { what: "a string", samples: ["facts"] },
    "$.kind.length": { what: "a number", samples: [5] },
    "$.name": { what: "a string or missing", samples: ["tick", undefined] },
    "$.name.length": { what: "a number or missing", samples: [4, undefined] },
    "$.late": { what: "a boolean or missing", samples: [true, false, undefined] },
  },
  substrate: {
    "$.status": { what: "a string", samples: ["running"] },
    "$.status.length": { what: "a number", samples: [7] },
    "$.at": { what: "a number or missing", samples: [0, undefined] },
  },
  changed: {
    "$.length": { what: "a number", samples: [0] },
    "$[]": { what: "a string or missing", samples: ["$.a", undefined] },
    "$[].length": { what: "a number or missing", samples: [3, undefined] },
  },
};

/** The shape of built-in `fact` at a path of one step or more, where {@link KNOWN_PATHS} knows it. */
export function pathShape(fact: string, segments: readonly PathSegment[]): FactShape | undefined {
  if (segments.length === 0 || !Object.hasOwn(KNOWN_PATHS, fact)) return undefined;
  // Every item of `changed` has one shape: its index is written `[]` in the table.
  const key =
    fact === "changed" && typeof segments[0] === "number"
      ? `$[]${formatPath(segments.slice(1)).slice(1)}`
      : formatPath(segments);
  return Object.hasOwn(KNOWN_PATHS[fact]!, key) ? KNOWN_PATHS[fact]![key] : undefined;
}
