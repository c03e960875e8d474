// An object's lifecycle over a window as an SVG picture (GET /ui/objects/{id}/timeline.svg):
// its decisions read through the governor, its bands worked out by the same code the page
// runs (assets/segments.js), the confirmations no decision records placed from the usage of
// each interval, and the picture drawn by report/svg.ts, as `vigil simulate` draws its own.

import type { Decision, ObjectRecord } from "../../core/types.ts";
import type { GovernorApi } from "../../governor/services.ts";
import { renderTimelines } from "../../report/svg.ts";
import { validationProblem } from "../problem.ts";
import { clip, confirmationIntervals, segmentsOf } from "./assets/segments.js";
import { eachConcurrently } from "../../core/concurrency.ts";

/** The window when the request names no start: the last 24 hours (the object's life, if shorter). */
export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Decisions read for one picture at most (newest first); older ones are left out of it. */
export const MAX_DECISIONS = 2000;
const PAGE = 500;
/** Usage reads that place confirmations, at most per picture, and at a time. */
const MAX_CONFIRMATIONS = 500;
const CONCURRENCY = 4;

/**
 * The window a request asks for: `to` defaults to now and is never after it, `from` to 24
 * hours before `to` or the object's creation, whichever is later. An empty window is a 422.
 */
export function pictureWindow(
  q: { from?: number | undefined; to?: number | undefined },
  object: ObjectRecord,
  now: number,
): { from: number; to: number } {
  const to = Math.min(q.to ?? now, now);
  const from = q.from ?? Math.min(Math.max(object.createdAt, to - DEFAULT_WINDOW_MS), to - 1000);
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

/** When each decision's confirmation moved the object on, from the usage of its interval. */
async function confirmations(
  governor: GovernorApi,
  id: string,
  decisions: Decision[],
  window: { from: number; to: number },
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const todo = confirmationIntervals(decisions)
    .filter((i) => i.to > window.from && i.from < window.to)
    .slice(-MAX_CONFIRMATIONS);
  await eachConcurrently(todo, CONCURRENCY, async (i) => {
    const usage = await governor.objectUsage(id, { from: i.from, to: i.to });
    found.set(i.id, usage.from + usage.ms[i.state]);
  });
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
