// Traffic files: one JSON object a line, `{"at": ISO, "objectId": ID, "facts": {...}}`, read into
// a workload. Every object is created at the first fact's time; blank lines are skipped; lines
// need not be in order (facts at the same instant keep their order in the file).

import { z } from "zod";
import { jsonObject } from "../contracts/json.ts";
import { zodProblems } from "../contracts/problems.ts";
import { duplicateKeyProblems } from "../core/duplicate-keys.ts";
import { checkDocument, MAX_BODY_DEPTH } from "../core/memory-limits.ts";
import { OBJECT_ID_HELP, OBJECT_ID_PATTERN } from "../core/object.ts";
import { EARLIEST_INSTANT_MS, isInstantWithin, LATEST_INSTANT_MS } from "../core/instants.ts";
import { toEpochMs } from "../core/operators.ts";
import { SimulationError, type TrafficFact, type Workload } from "./model.ts";

/** What {@link trafficTimeProblem} says of a text that is no date-time at all. */
export const NOT_A_TIME = "not an ISO 8601 date-time";

/** Why a time of the traffic (or `--until`, `--start`) cannot be taken, or null when it can. */
export function trafficTimeProblem(text: string): string | null {
  const t = toEpochMs(text);
  if (t === null) return NOT_A_TIME;
  // As every time Vigil reads (core/instants.ts): the window's end, 24 hours past a later one,
  // ran off what a Date holds, and the table's toISOString threw "Invalid time value".
  if (!isInstantWithin(t)) return `must fall from ${iso(EARLIEST_INSTANT_MS)} to ${iso(LATEST_INSTANT_MS)} in UTC`;
  return null;
}

const iso = (ms: number) => new Date(ms).toISOString();

const lineSchema = z.strictObject({
  // Read as memory timestamps are: ISO 8601 only, and without a zone UTC (never the machine's).
  at: z.string().superRefine((s, ctx) => {
    const problem = trafficTimeProblem(s);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  }),
  objectId: z.string().regex(OBJECT_ID_PATTERN, OBJECT_ID_HELP),
  facts: jsonObject,
});

/** One line of a traffic file, as the generator writes it. */
export type TrafficLine = z.infer<typeof lineSchema>;

/**
 * Parses a traffic file's text. Throws a {@link SimulationError} naming the first bad line
 * (`traffic.jsonl line 7: $.at: not an ISO 8601 date-time`).
 */
export function parseTraffic(text: string, file: string): Workload {
  const facts: TrafficFact[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const source = `${file} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new SimulationError(`${source}: not JSON (${(e as Error).message})`);
    }
    // Before zod, whose record parsing drops an own `__proto__` key without a word: the fact
    // would arrive without it, where the server refuses the same facts (a forbidden key). The
    // depth is the one the server takes in a request body, whose facts sit as deep as a line's.
    const forbidden = checkDocument(value, { maxDepth: MAX_BODY_DEPTH, maxProblems: 1 });
    if (forbidden.length > 0) throw new SimulationError(`${source}: ${forbidden[0]!.path}: ${forbidden[0]!.message}`);
    // JSON.parse keeps the last of a key written twice: a pasted-over second `"at"` or fact
    // would be simulated without a word, where a policy or fixture with one is refused.
    const repeated = duplicateKeyProblems(line, 1, MAX_BODY_DEPTH);
    if (repeated.length > 0) throw new SimulationError(`${source}: ${repeated[0]!.path}: ${repeated[0]!.message}`);
    const r = lineSchema.safeParse(value);
    if (!r.success) {
      const problems = zodProblems(r.error).map((p) => `${p.path}: ${p.message}`);
      throw new SimulationError(`${source}: ${problems.join("; ")}`);
    }
    facts.push({ at: toEpochMs(r.data.at)!, objectId: r.data.objectId, facts: r.data.facts, source });
  }
  if (facts.length === 0) throw new SimulationError(`${file}: no facts (one JSON object a line)`);
  return workloadOf(facts);
}

/** Facts in time order, their objects created at the first fact's time. */
export function workloadOf(facts: TrafficFact[]): Workload {
  // Array.prototype.sort is stable: facts at the same instant keep their order.
  const sorted = [...facts].sort((a, b) => a.at - b.at);
  const start = sorted[0]?.at ?? 0;
  const ids = [...new Set(sorted.map((f) => f.objectId))];
  return { objects: ids.map((id) => ({ id, createdAt: start, memory: {} })), facts: sorted };
}
