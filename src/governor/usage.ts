// Usage from the recorded history: for one object, or summed per policy over a page of objects,
// the time spent in each state within a window, the wakes and the state changes. The stored
// decisions are read as bare state changes a page at a time (core/store.ts DecisionReads) and
// folded by core/usage.ts; nothing holds more than a page of decisions or of objects.

import { eachConcurrently, nextTurn } from "../core/concurrency.ts";
import { conflict, invalid } from "../core/errors.ts";
import { decisionIdAt } from "../core/id-times.ts";
import { EARLIEST_INSTANT_MS } from "../core/instants.ts";
import type { StateChange, Store } from "../core/store.ts";
import type { ObjectRecord } from "../core/types.ts";
import { addTotals, emptyTotals, UsageFold, type UsageWindow } from "../core/usage.ts";
import type { ObjectUsage, PolicyUsage, PolicyUsagePage, PolicyUsageQuery, UsageQuery } from "./services.ts";

/** The window when a query names neither end: the last 24 hours. */
export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Decisions, or objects, read from the store at a time (at most). */
const PAGE = 500;
/**
 * The first page of an object's decisions in a window: most windows asked for one by one (the
 * dashboard's confirmations) end a few decisions after their start. Each page after it is
 * four times as long, up to {@link PAGE}.
 */
const FIRST_PAGE = 8;
/** Objects whose history is read at once when summing a policy. */
const CONCURRENCY = 8;

/**
 * The window a query asks for: `to` defaults to now and is never after it (time to come has no
 * usage yet), `from` defaults to 24 hours before `to`, but not before the year 0000 (a reply's
 * `from` is a time RFC 3339 writes, see core/instants.ts). An empty or inverted window is a 422.
 */
export function usageWindow(q: UsageQuery, now: number): UsageWindow {
  const to = Math.min(q.to ?? now, now);
  const from = q.from ?? Math.max(to - DEFAULT_WINDOW_MS, EARLIEST_INSTANT_MS);
  if (from >= to) {
    const end = q.to !== undefined && q.to < now ? "`to`" : "now";
    throw invalid("the usage window is empty", [
      { path: "$.query.from", message: `must be before ${end} (${new Date(to).toISOString()})` },
    ]);
  }
  return { from, to };
}

/**
 * One object's usage over `window`, clipped to its life: the reply's `from` is its creation when
 * that is later (and `to` when it was created after the window; every figure is then 0).
 */
export async function objectUsage(store: Store, object: ObjectRecord, window: UsageWindow): Promise<ObjectUsage> {
  const from = Math.min(Math.max(window.from, object.createdAt), window.to);
  const fold = new UsageFold({ from, to: window.to });
  if (from < window.to) {
    // The state at `from` is where the last decision before it left the object. When retention
    // deleted that one, the fold starts from the first kept decision's `fromState`.
    const prior = await decisionsBefore(store, object.id, from);
    for (const d of prior) fold.decision(d);
    for (let after = prior[prior.length - 1]?.id, limit = FIRST_PAGE; ; limit = Math.min(PAGE, limit * 4)) {
      const page = await store.history.stateChanges(object.id, { after, limit });
      for (const d of page) fold.decision(d);
      const last = page[page.length - 1];
      // One decision past the window is read on purpose: it places the confirmations before it.
      if (!last || page.length < limit || last.at >= window.to) break;
      after = last.id;
      await nextTurn();
    }
  }
  return { objectId: object.id, from, to: window.to, ...fold.finish(object) };
}

/** Times an object's usage is read again when it was deleted, or created again, meanwhile. */
const REREADS = 3;

/**
 * The usage of the object `load` finds, or null when there is none. Reading its history gives
 * the event loop turns, so the object may be deleted, or deleted and created again, meanwhile:
 * the figures would then mix two objects' histories. It is loaded again after the read, and a
 * changed one read again (a few times, then a 409).
 */
export async function currentObjectUsage(
  store: Store,
  load: () => Promise<ObjectRecord | null | undefined>,
  window: UsageWindow,
): Promise<ObjectUsage | null> {
  let object = await load();
  for (let tries = 0; object; tries++) {
    const usage = await objectUsage(store, object, window);
    const now = await load();
    if (now?.createdAt === object.createdAt) return usage;
    if (tries === REREADS)
      throw conflict(`object "${object.id}" was deleted and created again while its usage was read; ask again`);
    object = now;
  }
  return null;
}

/** Decisions read back at a time from a window's start (most need one). */
const BACK_PAGE = 20;

/**
 * The decisions before `from` the fold needs, oldest first: the last one, and before it, while
 * that one kept the object waking or sleeping (a fact that came while a start or a suspend was on
 * its way), those back to the decision that entered that state, whose action's confirmation may
 * fall in the window.
 */
async function decisionsBefore(store: Store, objectId: string, from: number): Promise<StateChange[]> {
  const out: StateChange[] = [];
  for (let before = decisionIdAt(from); ;) {
    const page = await store.history.stateChanges(objectId, { before, limit: BACK_PAGE, order: "desc" });
    for (const d of page) {
      out.push(d);
      const awaiting = d.fromState === d.toState && (d.toState === "waking" || d.toState === "sleeping");
      if (!awaiting) return out.reverse();
    }
    if (page.length < BACK_PAGE) return out.reverse();
    before = page[page.length - 1]!.id;
  }
}

/**
 * Usage summed per policy over up to `q.limit` objects in id order (those of `q.policy`, or all);
 * `next` says where the following call goes on. Objects are read a page at a time, and each
 * object's history a page at a time, a few objects at once.
 */
export async function policyUsage(
  store: Store,
  /** What the governor shows for a listed row (ObjectTable.listed); undefined for one on its way out. */
  listed: (row: ObjectRecord, filter: { policy?: string | undefined }) => ObjectRecord | undefined,
  q: PolicyUsageQuery,
  now: number,
): Promise<PolicyUsagePage> {
  const window = usageWindow(q, now);
  const sums = new Map<string, PolicyUsage>();
  let after = q.after;
  let left = q.limit;
  let more = false;
  while (left > 0) {
    const rows = await store.listObjects({ policy: q.policy, after, limit: Math.min(PAGE, left) + 1 });
    const page = rows.slice(0, Math.min(PAGE, left));
    more = rows.length > page.length;
    await eachConcurrently(page, CONCURRENCY, async (row) => {
      const object = listed(row, q);
      if (!object) return;
      const u = await objectUsage(store, object, window);
      if (u.from >= u.to) return;
      let sum = sums.get(object.policy);
      if (!sum) sums.set(object.policy, (sum = { policy: object.policy, objects: 0, ...emptyTotals() }));
      sum.objects++;
      addTotals(sum, u);
    });
    left -= page.length;
    after = page[page.length - 1]?.id;
    if (!more) break;
  }
  const items = [...sums.values()].sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  return { from: window.from, to: window.to, items, ...(more && after !== undefined ? { next: after } : {}) };
}
