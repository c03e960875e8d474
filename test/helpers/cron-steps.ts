// cron-parser's date steps (luxon operations), counted: what finding a schedule's tick costs,
// measured as work rather than time. cron-parser is CommonJS, so the luxon it steps dates with
// is the CommonJS build; its prototype is patched once, when this module is first imported.

import { createRequire } from "node:module";

const { DateTime } = createRequire(import.meta.url)("luxon") as { DateTime: { prototype: Record<string, unknown> } };
let steps = 0;
for (const m of ["plus", "minus", "set", "startOf", "endOf"]) {
  const original = DateTime.prototype[m] as (...a: unknown[]) => unknown;
  DateTime.prototype[m] = function (this: unknown, ...a: unknown[]) {
    steps++;
    return original.apply(this, a);
  };
}

/** The steps cron-parser has taken so far in this process. */
export const cronSteps = (): number => steps;
