// An object's lifecycle over a window as an SVG picture (GET /ui/objects/{id}/timeline.svg):
// its decisions read through the governor, its bands worked out by the same code the page
// runs (assets/segments.js), the confirmations no decision records placed at the times the
// store kept for them, and the picture drawn by report/svg.ts, as `vigil simulate` draws its own.

import { EARLIEST_INSTANT_MS } from "../../core/instants.ts";
import type { Decision, ObjectRecord } from "../../core/types.ts";
import type { GovernorApi } from "../../governor/services.ts";
import { renderTimelines } from "../../report/svg.ts";
import { validationProblem } from "../problem.ts";
import { clip, confirmationIntervals, segmentsOf } from "./assets/segments.js";

/** The window when the request names no start: the last 24 hours (the object's life, if shorter). */
export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Decisions read for one picture at most (newest first); older ones are left out of it. */
export const MAX_DECISIONS = 2000;
const PAGE = 500;

/**
 * The window a request asks for: `to` defaults to now and is never after it, `from` to 24
 * hours before `to` or the object's creation, whichever is later (but at least a second before
 * `to`), and never before the year 0000, as the usage endpoints' windows (governor/usage.ts): the
 * picture writes its ends as RFC 3339 times. An empty window is a 422.
 */
export function pictureWindow(
  q: { from?: number | undefined; to?: number | undefined },
  object: ObjectRecord,
  now: number,
): { from: number; to: number } {
  const to = Math.min(q.to ?? now, now);
  const from =
    q.from ?? Math.max(Math.min(Math.max(object.createdAt, to - DEFAULT_WINDOW_MS), to - 1000), EARLIEST_INSTANT_MS);
  if (from >= to)
    throw validationProblem("the window is empty", [
      { path: "$.query.from", message: `must be before ${new Date(to).toISOString()}` },
    ]);
  return { from, to };
}

/**
 * The object's decisions, newest first, back to the last one before `from` (the state there),
 * and whether they are all that is kept (none older: retention deleted any before them).
 */
async function decisionsSince(
  governor: GovernorApi,
  id: string,
  from: number,
): Promise<{ decisions: Decision[]; all: boolean }> {
  const out: Decision[] = [];
  for (let before: string | undefined; out.length < MAX_DECISIONS;) {
    const page = await governor.listDecisions(id, PAGE, before);
    out.push(...page);
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) return { decisions: out, all: true };
    if (last.at < from) break;
    before = last.id;
  }
  return { decisions: out, all: false };
}

/**
 * When each decision's confirmation moved the object on, for the intervals that end in the
 * window (segments.js confirmationIntervals). The times come from the store's state changes,
 * which carry each action's confirmation, read newest first a page at a time back to the oldest
 * interval: a few reads however many intervals there are, where a usage read per interval (as
 * the page in the browser places them) took up to 500, over a second of server time for one
 * picture of 2,000 decisions. Where facts came while a start or a suspend was on its way, an interval's decision
 * kept the object where it was and issued nothing: the confirmation is that of an action of the
 * decisions before it in the same state, the first that came after the interval's start, as
 * usage places it.
 */
async function confirmations(
  governor: GovernorApi,
  id: string,
  decisions: Decision[],
  window: { from: number; to: number },
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const todo = new Map(
    confirmationIntervals(decisions)
      .filter((i) => i.to > window.from && i.from < window.to)
      .map((i) => [i.id, i]),
  );
  if (todo.size === 0) return found;
  const oldest = [...todo.keys()].reduce((a, b) => (b < a ? b : a));
  // The interval whose decisions are being read back (newest first), and its confirmation so far.
  let open: { id: string; state: string; from: number; at: number } | null = null;
  const close = () => {
    if (open && Number.isFinite(open.at)) found.set(open.id, open.at);
    open = null;
  };
  for (let before: string | undefined; ;) {
    const page = await governor.stateChanges(id, { before, limit: PAGE, order: "desc" });
    for (const d of page) {
      if (open && (d.toState !== open.state || todo.has(d.id))) close();
      const interval = todo.get(d.id);
      if (!open && interval) open = { id: d.id, state: interval.state, from: interval.from, at: Infinity };
      if (!open) continue;
      if (d.confirmedAt !== null && d.confirmedAt >= open.from) open.at = Math.min(open.at, d.confirmedAt);
      // The decision that entered the state: its action is the last that can confirm it.
      if (d.fromState !== open.state) close();
    }
    const last = page[page.length - 1];
    if (!last || page.length < PAGE || (open === null && last.id <= oldest)) break;
    before = last.id;
  }
  close();
  return found;
}

/**
 * The picture of `object`'s timeline over `window`: one band coloured by state, the decisions
 * as ticks under it (their trigger, outcome and change in each tick's title).
 */
export async function timelinePicture(
  governor: GovernorApi,
  object: ObjectRecord,
  window: { from: number; to: number },
): Promise<string> {
  const now = Math.max(governor.clock.now(), window.to);
  const { decisions, all } = await decisionsSince(governor, object.id, window.from);
  const confirmed = await confirmations(governor, object.id, decisions, window);
  // With every decision kept in hand, the time before the oldest (whose predecessors retention
  // deleted) is drawn from the object's creation, as usage counts it.
  const current = all ? object : { state: object.state, stateSince: object.stateSince };
  const segments = clip(segmentsOf(decisions, current, now, confirmed), window.from, window.to);
  const marks = decisions
    .filter((d) => d.at >= window.from && d.at <= window.to)
    .map((d) => ({
      at: d.at,
      label: `${new Date(d.at).toISOString()} ${d.trigger.kind}${d.trigger.name ? ` (${d.trigger.name})` : ""}: ${d.outcome}, ${d.fromState} -> ${d.toState}`,
    }));
  return renderTimelines([{ objectId: object.id, segments, marks }], {
    ...window,
    title: `${object.id} (policy ${object.policy})`,
    width: 1200,
  });
}
