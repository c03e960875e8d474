// Waiting on the governor's own events instead of on time.

import type { Governor } from "../../src/governor/governor.ts";

/** Resolves when the governor confirms an action of `kind` (an event, not a sleep). */
export function confirmed(g: Governor, kind: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (a: { kind: string }) => {
      if (a.kind !== kind) return;
      g.events.off("action:confirmed", on);
      resolve();
    };
    g.events.on("action:confirmed", on);
  });
}
