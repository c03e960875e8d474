// A simulation's figures for people (a table) and for programs (JSON, in seconds).

import type { RowFigures } from "./stats.ts";
import type { SimulationResult } from "./simulate.ts";

/** Seconds as a short duration: `0.5s`, `42s`, `4m12s`, `3h02m`, `2d03h`. */
export function shortDuration(seconds: number): string {
  if (seconds < 10) return `${Number(seconds.toFixed(1))}s`;
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

const maybe = (s: number | null) => (s === null ? "-" : shortDuration(s));
const iso = (ms: number) => new Date(ms).toISOString();

/** The readable table `vigil simulate` prints by default. */
export function formatTable(r: SimulationResult): string {
  const withFailed = r.rows.some((row) => row.seconds.failed > 0);
  const header = [
    "",
    "active",
    "waking",
    "sleeping",
    "dormant",
    ...(withFailed ? ["failed"] : []),
    "wakes",
    "facts",
    "waited",
    "p50",
    "p99",
    "max",
    "unserved",
    "saving",
  ];
  const cells = (row: RowFigures) => [
    row.name,
    shortDuration(row.seconds.active),
    shortDuration(row.seconds.waking),
    shortDuration(row.seconds.sleeping),
    shortDuration(row.seconds.dormant),
    ...(withFailed ? [shortDuration(row.seconds.failed)] : []),
    String(row.wakes),
    String(row.facts),
    String(row.waited.count),
    maybe(row.waited.p50),
    maybe(row.waited.p99),
    maybe(row.waited.max),
    String(row.waited.unserved),
    `${(row.saving * 100).toFixed(1)}%`,
  ];
  const table = [header, ...r.rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  // Names to the left, figures to the right.
  const render = (line: string[]) =>
    line
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const latencies =
    `start latency ${shortDuration(r.latencies.startMs / 1000)}, ` +
    `resume latency ${shortDuration(r.latencies.resumeMs / 1000)}`;
  const lines = [
    `${r.objects} object${r.objects === 1 ? "" : "s"}, ${r.facts} fact${r.facts === 1 ? "" : "s"}, ` +
      `${iso(r.from)} to ${iso(r.to)} (${shortDuration((r.to - r.from) / 1000)}); ${latencies}`,
    ...(r.ignored > 0
      ? [
          `${r.ignored} fact${r.ignored === 1 ? " after the end of the window was" : "s after the end of the window were"} not replayed`,
        ]
      : []),
    "",
    ...table.map(render),
    "",
    "waited: facts that arrived while their object was not active; p50/p99/max: how long they waited",
    "until it was; unserved: still waiting at the end. saving: 1 - time not dormant / time always on.",
  ];
  return `${lines.join("\n")}\n`;
}

/** The same figures as JSON: times in ISO 8601, durations in seconds. */
export function toJson(r: SimulationResult) {
  return {
    window: { from: iso(r.from), to: iso(r.to), seconds: (r.to - r.from) / 1000 },
    objects: r.objects,
    facts: r.facts,
    ignoredFacts: r.ignored,
    latencies: { startSeconds: r.latencies.startMs / 1000, resumeSeconds: r.latencies.resumeMs / 1000 },
    autostopAfter: r.autostopAfter,
    rows: r.rows,
  };
}
