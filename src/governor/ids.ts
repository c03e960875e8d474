// Sortable unique ids: time, then a counter, then randomness. Decisions listed by id are in
// the order they were taken, which is what `before` cursors rely on.

import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.ts";

const PREFIX = { decision: "dec", action: "act" } as const;

export function idFactory(clock: Clock): (kind: keyof typeof PREFIX) => string {
  // Random per process, not per id (randomBytes per id showed in profiles): two processes,
  // or a clock that went back across a restart, still cannot mint the same id.
  const instance = randomBytes(4).toString("hex");
  let lastMs = -1;
  let counter = 0;
  return (kind) => {
    const ms = clock.now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else counter++;
    const time = Math.max(0, lastMs).toString(36).padStart(9, "0");
    const seq = counter.toString(36).padStart(4, "0");
    return `${PREFIX[kind]}_${time}${seq}${instance}`;
  };
}
