// Replay: run a candidate policy over an object's recorded history — its fact journal, in
// order, on a virtual clock that also fires the candidate's own timers and replays recorded
// substrate changes — and line its decisions up with the ones actually taken.
//
// Alignment: a `create` decision with `create`, a facts decision by memory version, a timer or
// substrate decision by its name and time. A row differs when only one side has it, or the
// outcomes, the resulting states or the rules fired differ.

import { invalid, prefixProblems } from "../core/errors.ts";
import { foldJournal, type JournalEntry } from "../core/journal.ts";
import { newObject } from "../core/object.ts";
import type { Store } from "../core/store.ts";
import { isAfter, lifecycleAt } from "../core/history.ts";
import { LATE_AFTER_MS } from "../core/timers.ts";
import type { Decision, JsonObject, ObjectRecord, Trigger } from "../core/types.ts";
import { loadCandidate, PolicyRegistry } from "../governor/policy-registry.ts";
import { RECORDED_CHANGES } from "../governor/recorded-decisions.ts";
import { createSandbox } from "./sandbox.ts";

export interface ReplaySide {
  decisionId?: string;
  outcome: string;
  toState: string;
  fired: string[];
}

export interface ReplayRow {
  key: string;
  at: string;
  trigger: Trigger;
  actual: ReplaySide | null;
  candidate: ReplaySide | null;
}

export interface ReplayReport {
  objectId: string;
  candidate: { name: string; version: string; hash: string };
  /** The replay starts here: the object's creation, or the snapshot retention left. */
  from: string;
  /**
   * Set when the oldest recorded decision is later than `from` (after a snapshot, or when
   * retention pruned decisions): the comparison starts there; the candidate's decisions before
   * it are not compared, for what was recorded then may be gone.
   */
  comparedFrom?: string;
  until: string;
  /** Decisions on each side, and how many rows differ. */
  actualDecisions: number;
  candidateDecisions: number;
  differences: ReplayRow[];
  /** Recorded evaluations that cannot be replayed (manual triggers), by key. */
  skipped: string[];
}

const PAGE = 500;

/** Reads an object's whole recorded history: decisions oldest first, and its journal. */
export async function readHistory(
  store: Store,
  objectId: string,
): Promise<{ decisions: Decision[]; journal: JournalEntry[] }> {
  const newestFirst: Decision[] = [];
  for (let before: string | undefined; ;) {
    const page = await store.listDecisions(objectId, PAGE, before);
    newestFirst.push(...page);
    if (page.length < PAGE) break;
    before = page[page.length - 1]!.id;
  }
  const journal: JournalEntry[] = [];
  for (let after = -1; ;) {
    const page = await store.journal(objectId, after, PAGE);
    journal.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  return { decisions: newestFirst.reverse(), journal };
}

function keyOf(d: Pick<Decision, "trigger" | "memoryVersion" | "at">): string {
  const t = d.trigger;
  if (t.kind === "create") return "create";
  if (t.kind === "facts") return `facts#${d.memoryVersion}`;
  return `${t.kind}:${t.name ?? ""}@${new Date(d.at).toISOString()}`;
}

function row(a: Decision | null, c: Decision | null): ReplayRow {
  const any = (a ?? c)!;
  return {
    key: keyOf(any),
    at: new Date(any.at).toISOString(),
    trigger: any.trigger,
    actual: a ? side(a, true) : null,
    candidate: c ? side(c, false) : null,
  };
}

/**
 * Lines the two histories up. Creation, facts (by memory version) and substrate changes
 * (replayed at their recorded time) match by key. A timer matches the replay's firing of the
 * same name when it fired within LATE_AFTER_MS after it — a real server fires a little
 * late, the virtual clock never does — or, for a firing marked late (after downtime), the
 * replay's earliest unmatched firing of that name before it.
 */
function align(actual: Decision[], candidate: Decision[]): ReplayRow[] {
  const rows: ReplayRow[] = [];
  const isTimer = (d: Decision) => d.trigger.kind === "timer";
  const byKey = new Map(candidate.filter((d) => !isTimer(d)).map((d) => [keyOf(d), d]));
  for (const a of actual.filter((d) => !isTimer(d))) {
    const key = keyOf(a);
    rows.push(row(a, byKey.get(key) ?? null));
    byKey.delete(key);
  }
  for (const c of byKey.values()) rows.push(row(null, c));
  const open = candidate.filter(isTimer).sort((x, y) => x.at - y.at);
  for (const a of actual.filter(isTimer).sort((x, y) => x.at - y.at)) {
    const i = open.findIndex(
      (c) =>
        c.trigger.name === a.trigger.name &&
        c.at <= a.at + LATE_AFTER_MS &&
        (a.trigger.late === true || c.at >= a.at - LATE_AFTER_MS),
    );
    rows.push(row(a, i >= 0 ? open.splice(i, 1)[0]! : null));
  }
  for (const c of open) rows.push(row(null, c));
  return rows.sort((x, y) => x.at.localeCompare(y.at) || x.key.localeCompare(y.key));
}

/** Manual evaluations (a policy change) and recorded changes (failures, crash loops) have no replay. */
const replayable = (d: Decision) =>
  d.trigger.kind !== "manual" && !(d.trigger.kind === "substrate" && RECORDED_CHANGES.includes(d.trigger.name ?? ""));

const side = (d: Decision, withId: boolean): ReplaySide => ({
  ...(withId ? { decisionId: d.id } : {}),
  outcome: d.outcome,
  toState: d.toState,
  fired: d.fired.map((f) => f.rule).sort(),
});

const same = (a: ReplaySide | null, b: ReplaySide | null) =>
  a !== null &&
  b !== null &&
  a.outcome === b.outcome &&
  a.toState === b.toState &&
  a.fired.join("\u0000") === b.fired.join("\u0000");

/**
 * Replays `object`'s history under `candidateDoc`. Throws an `invalid` VigilError when the
 * candidate is not a valid policy.
 */
export async function replay(
  object: ObjectRecord,
  history: { decisions: Decision[]; journal: JournalEntry[] },
  candidateDoc: unknown,
): Promise<ReplayReport> {
  const loaded = loadCandidate(candidateDoc, object.createdAt);
  if (!loaded.ok) throw invalid("the candidate policy is invalid", prefixProblems(loaded.error.errors, "$.policy"));
  const registry = new PolicyRegistry(() => object.createdAt);
  registry.add(loaded.policy);
  const candidate = loaded.policy.info;

  // Where history starts: entry 0 (creation) or the snapshot that retention left.
  const base = history.journal.findIndex((e) => e.kind === "snapshot");
  const startEntries = base >= 0 ? history.journal.slice(0, base + 1) : history.journal.filter((e) => e.seq === 0);
  const patches = history.journal.filter((e) => e.seq > (startEntries.at(-1)?.seq ?? 0));
  const fromCreation = base < 0;
  const start = fromCreation ? object.createdAt : startEntries.at(-1)!.at;
  const memory: JsonObject = foldJournal(startEntries);
  const snapSeq = startEntries.at(-1)?.seq ?? 0;
  // What happened before the start is taken as given: the state, holds and timers it left,
  // kept with the snapshot (its older decisions may be gone), or read from the decisions.
  const seedEntry = startEntries.at(-1);
  const lifecycle = seedEntry?.seed ?? lifecycleAt(history.decisions, start, snapSeq);
  const state = lifecycle.state;
  const seed: ObjectRecord = {
    ...newObject({
      id: object.id,
      policy: candidate.name,
      at: start,
      memory,
      // The sandbox's substrate confirms at once: a wake or sleep under way has completed.
      state: state === "waking" ? "active" : state === "sleeping" ? "dormant" : state,
    }),
    stateSince: lifecycle.stateSince,
    wokeAt: lifecycle.wokeAt,
    memoryVersion: snapSeq,
    holdUntil: lifecycle.holdUntil,
    timers: lifecycle.timers,
    createdAt: object.createdAt,
  };
  // Retention may have pruned decisions after the start (by age or by count), and which ones
  // cannot be told from what is left: the comparison starts at the oldest decision recorded.
  const recorded = history.decisions.filter((d) => isAfter(d, start, snapSeq));
  const comparedFrom = recorded[0] && recorded[0].at > start ? recorded[0].at : null;

  const sandbox = await createSandbox(registry, start, fromCreation ? [] : [seed]);
  const produced: Decision[] = [];
  sandbox.governor.events.on("evaluation:completed", (d, stored) => {
    if (stored) produced.push(d);
  });
  const skipped: string[] = [];
  try {
    if (fromCreation) await sandbox.governor.putObject(object.id, { policy: candidate.name, memory });
    // Facts and recorded substrate changes, in time order; the candidate's timers fire between.
    type Event = { at: number; run: () => Promise<unknown> };
    const events: Event[] = patches.map((e) => ({
      at: e.at,
      run: () => sandbox.governor.postFacts(object.id, e.patch),
    }));
    for (const d of history.decisions) {
      if (!isAfter(d, start, snapSeq)) continue;
      if (d.trigger.kind === "substrate" && d.trigger.name && replayable(d)) {
        const status = d.trigger.name as "running" | "suspended" | "stopped";
        events.push({ at: d.at, run: async () => sandbox.driver.crash(object.id, status) });
      } else if (!replayable(d)) skipped.push(keyOf(d));
    }
    // Downtime: a late timer firing means the server was down until then, since its latest
    // recorded decision before. The replay is down too: its clock jumps over that time, so
    // that its timers fire late at the same moment as the recorded ones.
    for (const late of history.decisions.filter((d) => d.trigger.late === true && isAfter(d, start, snapSeq))) {
      const before = history.decisions.filter((d) => d.at < late.at - LATE_AFTER_MS && !d.trigger.late);
      const down = before.reduce((m, d) => Math.max(m, d.at), start);
      events.push({ at: down, run: async () => sandbox.clock.jumpTo(late.at) });
    }
    events.sort((a, b) => a.at - b.at);
    for (const e of events) {
      await sandbox.advanceTo(e.at);
      await e.run();
      await sandbox.advanceTo(e.at);
    }
    const until = history.decisions.reduce((m, d) => Math.max(m, d.at), start);
    await sandbox.advanceTo(until);

    const actual = recorded.filter(replayable);
    const compared = comparedFrom === null ? produced : produced.filter((d) => d.at >= comparedFrom);
    const rows = align(actual, compared);
    return {
      objectId: object.id,
      candidate: { name: candidate.name, version: candidate.version, hash: candidate.hash },
      from: new Date(start).toISOString(),
      ...(comparedFrom === null ? {} : { comparedFrom: new Date(comparedFrom).toISOString() }),
      until: new Date(until).toISOString(),
      actualDecisions: actual.length,
      candidateDecisions: compared.length,
      differences: rows.filter((r) => !same(r.actual, r.candidate)),
      skipped,
    };
  } finally {
    await sandbox.close();
  }
}
