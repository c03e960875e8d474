// The pictures of a simulation (`--report FILE.svg` or `FILE.html`): per row, the state
// timelines of a sample of objects with the facts that waited marked on them, and one
// histogram of the waits of every row. Pure: the command writes the text.

import { escapeXml, renderTimelines, renderWaitHistogram, stackSvgs, type TimelineRow } from "../report/svg.ts";
import type { Trace } from "./model.ts";
import { formatTable } from "./format.ts";
import type { SimulationResult } from "./simulate.ts";
import { waitOfEach, waitsOf } from "./stats.ts";
import { segmentsOf } from "./timeline.ts";

/** Objects drawn per row by default: the first ones of the workload. */
export const DEFAULT_SAMPLE = 8;

/**
 * The timeline rows of `trace` for its first `sample` objects created before the window's end:
 * one created at or after it (with `--db` and an earlier `--until`) has no time in the window,
 * and no row draws it (a policy's run never creates it; the baseline's has it, empty).
 */
export function timelineRows(trace: Trace, r: SimulationResult, sample: number): TimelineRow[] {
  const ids = [...trace.changes]
    .filter(([, list]) => list[0] !== undefined && list[0].at < r.to)
    .slice(0, sample)
    .map(([id]) => id);
  return ids.map((id) => {
    const changes = trace.changes.get(id)!;
    const own = trace.arrivals.filter((a) => a.objectId === id && a.state !== "active" && a.at <= r.to);
    // All the object's waits in one call: one call per fact found its next activity from scratch
    // each time, facts x changes (a 90-day trickle's report took a minute more than its table).
    const waits = waitOfEach(own, trace.changes, r.to);
    const marks = own.map((a, k) => {
      const wait = waits[k];
      const waited = typeof wait === "number" ? `waited ${wait / 1000} s` : "was still waiting at the end";
      return { at: a.at, label: `${id}: a fact at ${new Date(a.at).toISOString()} found it ${a.state}, ${waited}` };
    });
    return { objectId: id, segments: segmentsOf(changes, r.to), marks };
  });
}

/** Every picture of the report, in order: a timeline per row, then the waits. */
export function reportSvgs(r: SimulationResult, sample = DEFAULT_SAMPLE): string[] {
  const timelines = r.traces.map((t) => {
    const rows = timelineRows(t, r, sample);
    // The bands drawn, of every object simulated.
    const title = `${t.name}: states of ${rows.length} of ${r.objects} object${r.objects === 1 ? "" : "s"}`;
    return renderTimelines(rows, { from: r.from, to: r.to, title });
  });
  const series = r.traces.map((t) => ({ name: t.name, ...waitsOf(t.arrivals, t.changes, r.to) }));
  return [...timelines, renderWaitHistogram(series, { title: "How long facts waited for an active object" })];
}

/** The report as one SVG. */
export function reportSvg(r: SimulationResult, sample = DEFAULT_SAMPLE): string {
  return `${stackSvgs(reportSvgs(r, sample), `vigil simulate: ${r.traces.map((t) => t.name).join(", ")}`)}\n`;
}

/** The report as an HTML page: the table, then the pictures. */
export function reportHtml(r: SimulationResult, sample = DEFAULT_SAMPLE): string {
  const title = `vigil simulate: ${r.traces.map((t) => t.name).join(", ")}`;
  return [
    "<!doctype html>",
    '<html lang="en">',
    '<head><meta charset="utf-8">',
    `<title>${escapeXml(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px}pre{font-size:12px;overflow-x:auto}figure{margin:1.5rem 0}</style>",
    "</head>",
    "<body>",
    `<h1>${escapeXml(title)}</h1>`,
    `<pre>${escapeXml(formatTable(r))}</pre>`,
    ...reportSvgs(r, sample).map((s) => `<figure>\n${s}\n</figure>`),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
