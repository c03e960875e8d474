// Sortable unique ids: time, then a counter, then randomness. Decisions listed by id are in
// the order they were taken, which is what `before` cursors and replay rely on: a server
// continues after the newest id stored before it (`after`), and after its own newest when its
// clock steps back, as long as its clock is at most MAX_LEAD_MS behind.

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
   * until the clock passes it. An id more than MAX_LEAD_MS ahead of the clock is not followed
   * (false): a clock that far behind is a fault to report, and ids minted that far ahead of
   * their decisions' time would escape retention's reads by time (retention.ts MINT_SLACK_MS).
   */
  after(id: string): boolean;
}

/** How far ahead of the clock an id may be and still be continued after. */
export const MAX_LEAD_MS = 30 * 60_000;

/** How many ids one millisecond holds (four base-36 digits of counter); the next spill into the next. */
const PER_MS = 36 ** 4;

/**
 * `behind` hears of a clock more than MAX_LEAD_MS behind the newest id: one stored (`after`),
 * or one minted before the clock was stepped back. Ids follow the clock from then on.
 */
export function idFactory(clock: Clock, behind: (error: Error) => void = () => {}): IdFactory {
  // Random per process, not per id (randomBytes per id showed in profiles): two processes,
  // or a clock that went back across a restart, still cannot mint the same id.
  let instance = randomBytes(4).toString("hex");
  let lastMs = -1;
  let counter = 0;
  const mint = ((kind) => {
    const ms = clock.now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else if (lastMs - ms > MAX_LEAD_MS) {
      behind(clockBehind(lastMs, ms));
      // Back on the clock: a millisecond and counter already used may come again, under another instance.
      instance = randomBytes(4).toString("hex");
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
    if (ms === null || ms < lastMs) return true;
    if (ms >= clock.now() + MAX_LEAD_MS) {
      behind(clockBehind(ms, clock.now()));
      return false;
    }
    // As if that millisecond's counter were used up: the next id is minted at the millisecond
    // after it (or the clock's, when later), counter 0, after every id minted at it.
    lastMs = ms;
    counter = PER_MS - 1;
    return true;
  };
  return mint;
}

/** The newest id, stored or minted, is further ahead of the clock than ids may lead. */
function clockBehind(newest: number, now: number): Error {
  return new Error(
    `the newest decision or action id was minted at ${new Date(newest).toISOString()}, more than ` +
      `${MAX_LEAD_MS / 60_000} minutes ahead of this server's clock (${new Date(now).toISOString()}): check the ` +
      "clocks. Ids now follow the clock: listings, cursors and replay may put newer decisions before older ones.",
  );
}
