// Sortable unique ids: time, then a counter, then randomness. Decisions listed by id are in
// the order they were taken, which is what `before` cursors and replay rely on: a server
// continues after the newest id stored before it (`after`), whatever its clock says.

import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { idTime } from "../core/id-times.ts";

const PREFIX = { decision: "dec", action: "act" } as const;

/** Mints ids; `after` makes every id it mints from then on sort after the one given. */
export interface IdFactory {
  (kind: keyof typeof PREFIX): string;
  /**
   * Continues after `id` (the newest stored, at start): a server whose clock is behind the one
   * before it still mints ids that sort after that one's, so that ids stay in the order
   * decisions were taken on one database. Their time is then the newest id's, not the clock's,
   * until the clock passes it.
   */
  after(id: string): void;
}

/** How many ids one millisecond holds (four base-36 digits of counter); the next spill into the next. */
const PER_MS = 36 ** 4;

export function idFactory(clock: Clock): IdFactory {
  // Random per process, not per id (randomBytes per id showed in profiles): two processes,
  // or a clock that went back across a restart, still cannot mint the same id.
  const instance = randomBytes(4).toString("hex");
  let lastMs = -1;
  let counter = 0;
  const mint = ((kind) => {
    const ms = clock.now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else if (++counter === PER_MS) {
      lastMs++;
      counter = 0;
    }
    const time = Math.max(0, lastMs).toString(36).padStart(9, "0");
    const seq = counter.toString(36).padStart(4, "0");
    return `${PREFIX[kind]}_${time}${seq}${instance}`;
  }) as IdFactory;
  mint.after = (id) => {
    const ms = idTime(id);
    // The next id is minted at that millisecond and one, counter 0: after every id minted at it.
    if (ms !== null && ms >= lastMs) {
      lastMs = ms + 1;
      counter = -1;
    }
  };
  return mint;
}
