// An object's recorded history as replay reads it: its decisions and its fact journal, oldest
// first, a page at a time. A replay holds a page of history, never all of it, and may read it
// more than once (each call starts over).

import type { JournalEntry } from "../core/journal.ts";
import type { Store } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";

export interface History {
  /** Decisions in the order they were taken (by id, which sorts by time). */
  decisions(): AsyncIterable<Decision>;
  /** The fact journal by seq. */
  journal(): AsyncIterable<JournalEntry>;
}

/** Rows read from the store at a time. */
export const HISTORY_PAGE = 500;

/**
 * An object's history in the store, read lazily, `page` rows at a time. Given the object's
 * record, it ends where that record does: a replay reads the history more than once, and without
 * that end a server writing meanwhile would show one pass a decision whose fact another pass never
 * saw. Journal entries up to its memory version; decisions that saw an older memory, or its
 * memory and were taken no later than its last decision. (Decision ids sort in the order they
 * were taken, governor/ids.ts; ids minted before a server continued after the newest stored, by
 * an older version, may not, and the memory version, which only grows, comes first.) Given an
 * id alone, it reads all there is.
 */
export function readHistory(
  store: Store,
  object: string | Pick<ObjectRecord, "id" | "memoryVersion" | "lastDecisionId">,
  page = HISTORY_PAGE,
): History {
  const objectId = typeof object === "string" ? object : object.id;
  const end = typeof object === "string" ? null : object;
  const lastDecision = end?.lastDecisionId ?? "";
  return {
    async *decisions() {
      for (let after: string | undefined; ;) {
        const rows = await store.decisionsAfter(objectId, page, after);
        for (const d of rows) {
          const later =
            end !== null &&
            (d.memoryVersion > end.memoryVersion || (d.memoryVersion === end.memoryVersion && d.id > lastDecision));
          if (!later) yield d;
        }
        if (rows.length < page) return;
        after = rows[rows.length - 1]!.id;
      }
    },
    async *journal() {
      for (let after = -1; ;) {
        const rows = await store.journal(objectId, after, page);
        for (const e of rows) {
          if (end !== null && e.seq > end.memoryVersion) return;
          yield e;
        }
        if (rows.length < page) return;
        after = rows[rows.length - 1]!.seq;
      }
    },
  };
}

/**
 * A history held in memory (a test's, or one edited by hand), ordered as a store reads it:
 * decisions by time, then id; the journal by seq.
 */
export function historyOf(h: { decisions: readonly Decision[]; journal: readonly JournalEntry[] }): History {
  const decisions = [...h.decisions].sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const journal = [...h.journal].sort((x, y) => x.seq - y.seq);
  return {
    async *decisions() {
      yield* decisions;
    },
    async *journal() {
      yield* journal;
    },
  };
}

/** Reads a whole history into memory: for tests and small objects only. */
export async function collectHistory(h: History): Promise<{ decisions: Decision[]; journal: JournalEntry[] }> {
  const decisions: Decision[] = [];
  for await (const d of h.decisions()) decisions.push(d);
  const journal: JournalEntry[] = [];
  for await (const e of h.journal()) journal.push(e);
  return { decisions, journal };
}
