// Replay: run a candidate policy over an object's recorded history — its fact journal, in
// order, on a virtual clock that also fires the candidate's own timers and replays recorded
// substrate changes — and line its decisions up with the ones actually taken (align.ts).
//
// History is read a page at a time, twice: a survey of the decisions (where the replay starts,
// the downtime it must jump over), then the replay itself, the journal and the decisions
// merged by time. It runs under a ReplayBudget (limits.ts): a deadline and a cap on
// evaluations, checked between steps, with the event loop let run now and then.
//
// The file is past 400 lines because the survey and the replay must agree on where history
// starts, what was pruned and what downtime it shows, and each is read beside the other.

import { conflict } from "../core/errors.ts";
import { foldJournal, type JournalEntry, type LifecycleSeed } from "../core/journal.ts";
import { newObject } from "../core/object.ts";
import { isAfter, lifecycleAt } from "../core/history.ts";
import { idTime } from "../core/id-times.ts";
import { LATE_AFTER_MS } from "../core/timers.ts";
import type { Decision, JsonObject, ObjectRecord, Timer } from "../core/types.ts";
import { loadCandidatePolicy, settleSchedules } from "../governor/dry-run.ts";
import { PolicyRegistry } from "../governor/policy-registry.ts";
import { RECORDED_CHANGES } from "../governor/recorded-decisions.ts";
import { Aligner, keyOf, type ReplayRow } from "./align.ts";
import type { History } from "./history.ts";
import { DEFAULT_REPLAY_LIMITS, ReplayBudget, type ReplayLimits } from "./limits.ts";
import { createSandbox, RECORDED_LIMITS } from "./sandbox.ts";

export type { ReplayRow, ReplaySide } from "./align.ts";

export interface ReplayReport {
  objectId: string;
  candidate: { name: string; version: string; hash: string };
  /** The replay starts here: the object's creation, or the snapshot retention left. */
  from: string;
  /**
   * Set when the oldest recorded decision is later than the start (after a snapshot, or when
   * retention pruned decisions; in the start's millisecond too, on a newer memory): the
   * comparison starts there, at its time; the candidate's decisions before it are not compared,
   * for what was recorded then may be gone.
   */
  comparedFrom?: string;
  until: string;
  /** Decisions compared on each side. */
  actualDecisions: number;
  candidateDecisions: number;
  /** Evaluations the candidate made, stored or only counted (quiet timer ticks). */
  evaluations: number;
  /** The rows that differ, earliest first: at most `maxRows` of them and `maxBytes` of JSON. */
  differences: ReplayRow[];
  /** How many rows differ in all. */
  differenceCount: number;
  /** Recorded evaluations that cannot be replayed (manual triggers), by key: at most `maxRows`. */
  skipped: string[];
  skippedCount: number;
  /** True when `differences` or `skipped` holds fewer entries than its count. */
  truncated: boolean;
}

/** Manual evaluations (a policy change) and recorded changes (failures, crash loops) have no replay. */

const replayable = (d: Decision) =>
  d.trigger.kind !== "manual" && !(d.trigger.kind === "substrate" && RECORDED_CHANGES.includes(d.trigger.name ?? ""));

/**
 * Replays `object`'s history under `candidateDoc`. Throws an `invalid` VigilError when the
 * candidate is not a valid candidate policy or needs more than `maxEvaluations`, and an
 * `unavailable` one when it does not finish within `deadlineMs`.
 */
export async function replay(
  object: ObjectRecord,
  history: History,
  candidateDoc: unknown,
  limits: Partial<ReplayLimits> = {},
): Promise<ReplayReport> {
  const budget = new ReplayBudget({ ...DEFAULT_REPLAY_LIMITS, ...limits });
  // Validation asks for the ticks from now (the wall clock's); the replay, from the object's
  // creation on.
  await settleSchedules(candidateDoc, Date.now(), () => budget.check());
  const loaded = loadCandidatePolicy(candidateDoc, object.createdAt);
  await settleSchedules(candidateDoc, object.createdAt, () => budget.check());
  const registry = new PolicyRegistry(() => object.createdAt);
  // Each evaluation of the candidate is weighed first (a refused one stops the replay).
  registry.add({ ...loaded, compiled: { ...loaded.compiled, weigh: (w) => budget.weigh(w) } });
  const candidate = loaded.info;

  // Where history starts: journal entry 0 (creation), or the snapshot that retention left,
  // which is then the oldest entry (Store.compactJournal replaces everything up to it). A
  // snapshot of entry 0 alone, at the creation, is the creation: it is replayed as one.
  const first = await firstOf(history.journal());
  const snapshot = first?.kind === "snapshot" && (first.seq > 0 || first.at > object.createdAt) ? first : null;
  const start = snapshot ? snapshot.at : object.createdAt;
  const snapSeq = snapshot ? snapshot.seq : 0;
  const memory: JsonObject = first && (snapshot || first.seq === 0) ? foldJournal([first]) : {};
  const survey = await surveyDecisions(history, start, snapSeq, budget, snapshot !== null, snapshot?.seed ?? null);
  // Not one decision after the start is kept, yet the object took some: retention pruned them
  // all, and there is nothing left to compare the candidate with up to the last of them.
  const last = object.lastDecisionId === null ? null : idTime(object.lastDecisionId);
  if (!survey.seenAfter && !survey.seenBefore && last !== null && last >= start) {
    survey.comparedFrom = { at: last + 1, memoryVersion: 0, factFirst: true };
    survey.until = last;
  }
  const { comparedFrom, until, jumps } = survey;

  const aligner = new Aligner(budget.limits.maxRows, budget.limits.maxBytes);
  const seed = snapshot ? [seedAt(object, candidate.name, start, memory, snapSeq, survey.lifecycle!)] : [];
  const sandbox = await createSandbox(registry, start, seed, () => budget.step(), RECORDED_LIMITS, false, true);
  // A snapshot that left the object active left its compute running, and one that left it
  // dormant after a suspend left it suspended: the sandbox's substrate holds it (a suspend keeps
  // it resident, a start resumes it, as the server's did), telling no one.
  const held = seed[0]?.substrate.observed?.status;
  if (held === "running" || held === "suspended") sandbox.driver.crash(object.id, held, false);
  sandbox.governor.events.on("evaluation:completed", (d, stored) => {
    budget.evaluations++;
    if (stored && (comparedFrom === null || !before(d, comparedFrom))) aligner.candidate(d);
  });
  // Every timer of the candidate due by `replayed` has fired (a jump moves the clock past
  // timers that fire later, late): what the aligner may take as complete.
  let replayed = start;
  const step = async (at: number) => {
    await sandbox.advanceTo(at);
    replayed = Math.max(replayed, at);
    await budget.step();
  };
  // Downtime: the replay is down too. Its clock jumps over that time without firing
  // anything, so that its timers fire late at the same moment as the recorded ones. A downtime
  // that ends at the oldest kept decision began at an unknown moment (the decisions before it,
  // which showed the server up, may be gone): the candidate stays up until one of the timers
  // that fired late at its end falls due, its other timers firing on time on the way, each
  // once at most (a schedule's ticks over a long downtime would otherwise all be evaluated).
  const jump = async (j: Jump) => {
    await step(j.at);
    const fired = new Set<string>(j.late);
    let up = j.at;
    for (let next = await upUntil(j, fired); next !== null && next.dueAt > up; next = await upUntil(j, fired)) {
      fired.add(next.name);
      await step((up = next.dueAt));
    }
    sandbox.clock.jumpTo(j.to);
    await step(j.at);
  };
  /** For a downtime of unknown start, the candidate's next timer before its end, unless one of `fired`. */
  const upUntil = async (j: Jump, fired: Set<string>) => {
    if (j.late === undefined) return null;
    const timers = (await sandbox.governor.getObject(object.id))?.timers ?? [];
    const next = timers.reduce<Timer | null>((m, t) => (m === null || t.dueAt < m.dueAt ? t : m), null);
    return next !== null && next.dueAt < j.to && !fired.has(next.name) ? next : null;
  };

  try {
    if (!snapshot) await sandbox.governor.putObject(object.id, { policy: candidate.name, memory });
    // Facts and recorded substrate changes in time order, the candidate's timers firing
    // between; a downtime jump after everything at its time. At the same instant a fact comes
    // first, unless the decision saw an older memory than the fact made (it came before it).
    const patches = new Peekable(laterEntries(history.journal(), snapSeq));
    const decisions = new Peekable(history.decisions()[Symbol.asyncIterator]());
    for (;;) {
      const p = await patches.peek();
      const d = await decisions.peek();
      if (p === undefined && d === undefined) break;
      const factFirst =
        p !== undefined && (d === undefined || p.at < d.at || (p.at === d.at && d.memoryVersion >= p.seq));
      const at = factFirst ? p.at : d!.at;
      while (jumps.length > 0 && jumps[0]!.at < at) await jump(jumps.shift()!);
      if (factFirst) {
        await patches.next();
        await step(p.at);
        await sandbox.governor.postFacts(object.id, p.patch);
        await step(p.at);
      } else if (d !== undefined) {
        await decisions.next();
        if (isAfter(d, start, snapSeq) && replayable(d)) {
          await step(d.at);
          if (d.trigger.kind === "substrate" && d.trigger.name) {
            sandbox.driver.crash(object.id, d.trigger.name as "running" | "suspended" | "stopped");
            await step(d.at);
          }
          aligner.actual(d);
        }
      }
      aligner.advance(replayed, at);
    }
    for (const j of jumps) await jump(j);
    await step(until);
    const differences = aligner.finish();

    return {
      objectId: object.id,
      candidate: { name: candidate.name, version: candidate.version, hash: candidate.hash },
      from: new Date(start).toISOString(),
      ...(comparedFrom === null ? {} : { comparedFrom: new Date(comparedFrom.at).toISOString() }),
      until: new Date(until).toISOString(),
      actualDecisions: aligner.actualCount,
      candidateDecisions: aligner.candidateCount,
      evaluations: budget.evaluations,
      differences,
      differenceCount: aligner.differenceCount,
      skipped: survey.skipped,
      skippedCount: survey.skippedCount,
      truncated: differences.length < aligner.differenceCount || survey.skipped.length < survey.skippedCount,
    };
  } catch (e) {
    // A refused evaluation fails where it ran (a timer's is only logged): the refusal is the answer.
    budget.check();
    throw e;
  } finally {
    await sandbox.close();
  }
}

/**
 * The object as the replay starts from a snapshot. What happened before is taken as given: the
 * state, holds and timers it left, kept with the snapshot (its older decisions may be gone),
 * or read from the decisions.
 */
function seedAt(
  object: ObjectRecord,
  policy: string,
  start: number,
  memory: JsonObject,
  snapSeq: number,
  lifecycle: LifecycleSeed,
): ObjectRecord {
  const state = lifecycle.state;
  // The sandbox's substrate confirms at once: a wake or sleep under way has completed.
  const active = state === "waking" || state === "active";
  const seed = newObject({
    id: object.id,
    policy,
    at: start,
    memory,
    state: active ? "active" : state === "sleeping" ? "dormant" : state,
  });
  return {
    ...seed,
    // An active one's compute was confirmed running, as the `substrate` fact read on the server;
    // another's is as its last action or substrate change left it (nothing observed before any).
    ...(active
      ? { substrate: { ...seed.substrate, observed: { status: "running" as const, at: lifecycle.stateSince } } }
      : lifecycle.substrate
        ? { substrate: { ...seed.substrate, observed: { ...lifecycle.substrate } } }
        : {}),
    stateSince: lifecycle.stateSince,
    wokeAt: lifecycle.wokeAt,
    memoryVersion: snapSeq,
    holdUntil: lifecycle.holdUntil,
    timers: lifecycle.timers,
    createdAt: object.createdAt,
  };
}

/**
 * Where a decision lies in an object's history, finer than its millisecond: decisions taken in one
 * (a batch of facts for the object, a creation and a fact) differ by the memory they saw, which
 * only grows; on one memory, the decision of the fact that made it (or the creation) comes first.
 */
interface Position {
  at: number;
  memoryVersion: number;
  factFirst: boolean;
}

const positionOf = (d: Decision): Position => ({
  at: d.at,
  memoryVersion: d.memoryVersion,
  factFirst: d.trigger.kind === "facts" || d.trigger.kind === "create",
});

/** Whether decision `d` was taken before `p`. */
function before(d: Decision, p: Position): boolean {
  if (d.at !== p.at) return d.at < p.at;
  if (d.memoryVersion !== p.memoryVersion) return d.memoryVersion < p.memoryVersion;
  return !p.factFirst && positionOf(d).factFirst;
}

/**
 * The server was down from `at` until `to`. With `late`, it ends at the oldest kept decision,
 * and `at` is only the last moment known to be up: the names of the timers that fired late at
 * its end.
 */
interface Jump {
  at: number;
  to: number;
  late?: Set<string>;
}

interface Survey {
  /** The lifecycle at the start: the snapshot's, or read from the decisions before it. */
  lifecycle: LifecycleSeed | null;
  /** The oldest kept decision's, when decisions before it may be gone. */
  comparedFrom: Position | null;
  /** Whether a decision after the start is kept. */
  seenAfter: boolean;
  /**
   * Whether a decision at or before the start (a snapshot's) is kept. Retention deletes an
   * object's oldest decisions first, so then none after the start is gone, and everything is
   * compared.
   */
  seenBefore: boolean;
  until: number;
  /** Downtime the recorded history shows, in time order. */
  jumps: Jump[];
  skipped: string[];
  skippedCount: number;
}

/** Decisions before the start folded into the lifecycle at a time. */
const FOLD = 500;

/**
 * One pass over the recorded decisions for what the replay must know before it starts: the
 * lifecycle at the start (unless the snapshot kept it), the oldest decision after the start,
 * the latest decision, what cannot be replayed, and downtime. A late timer firing means the
 * server was down until then, since its latest recorded decision or journaled fact that came
 * more than LATE_AFTER_MS before.
 */
async function surveyDecisions(
  history: History,
  start: number,
  snapSeq: number,
  budget: ReplayBudget,
  fromSnapshot: boolean,
  snapshotSeed: LifecycleSeed | null,
): Promise<Survey> {
  const survey: Survey = {
    lifecycle: snapshotSeed,
    comparedFrom: null,
    seenAfter: false,
    seenBefore: false,
    until: start,
    jumps: [],
    skipped: [],
    skippedCount: 0,
  };
  let lifecycle: LifecycleSeed | undefined;
  let beforeStart: Decision[] = [];
  /** Times of the latest decisions and journaled facts, oldest first: a handful at most. */
  const recent: number[] = [];
  /** `t` showed the server up: only the latest time more than LATE_AFTER_MS before `by` can matter. */
  const up = (t: number, by: number) => {
    while (recent.length > 1 && recent[1]! < by - LATE_AFTER_MS) recent.shift();
    recent.push(t);
  };
  // A journaled fact shows the server up at its time as a decision does: with decisions pruned
  // and no snapshot, the kept ones alone would date a downtime from the creation.
  const entries = new Peekable(history.journal()[Symbol.asyncIterator]());
  const downtime = new Map<number, number>();
  /** The oldest kept decision's time, when it is a late firing and decisions before it may be gone. */
  let uncertain: number | null = null;
  /** By a downtime's start, the names of the timers that fired late at that time. */
  const lateAt = new Map<number, Set<string>>();
  for await (const d of history.decisions()) {
    await budget.step();
    for (let e = await entries.peek(); e !== undefined && e.at < d.at; e = await entries.peek()) {
      await entries.next();
      await budget.step();
      if (e.kind !== "snapshot") up(e.at, d.at);
    }
    survey.until = Math.max(survey.until, d.at);
    const after = isAfter(d, start, snapSeq);
    // From a snapshot, the decisions not after it are the oldest: while one is kept, none after
    // it is gone. From the creation, a decision in its millisecond is not after the start but
    // comes after the creation's own, which may be gone.
    if (!after && fromSnapshot) survey.seenBefore = true;
    if (!after && snapshotSeed === null) {
      beforeStart.push(d);
      if (beforeStart.length >= FOLD) {
        lifecycle = lifecycleAt(beforeStart, start, snapSeq, lifecycle);
        beforeStart = [];
      }
    }
    // The oldest kept decision after the start is where the comparison starts, unless it is the
    // creation's (from the creation) or one at or before a snapshot is kept: decisions before it
    // may be gone, in its own millisecond too, so it is placed by its memory as well as its time.
    if (after && !survey.seenAfter) {
      survey.seenAfter = true;
      if (!survey.seenBefore && (fromSnapshot || d.trigger.kind !== "create")) {
        survey.comparedFrom = positionOf(d);
        if (d.trigger.late === true) uncertain = d.at;
      }
    }
    if (after && !replayable(d)) {
      survey.skippedCount++;
      if (survey.skipped.length < budget.limits.maxRows) survey.skipped.push(keyOf(d));
    }
    if (d.trigger.late === true && after) {
      let down = start;
      for (const t of recent) if (t < d.at - LATE_AFTER_MS) down = Math.max(down, t);
      downtime.set(down, Math.max(downtime.get(down) ?? d.at, d.at));
      // The timers that fired late at the oldest kept decision's time: the replay stays up until
      // one of them falls due (see jump), for that downtime's start is not known.
      if (d.at === uncertain && d.trigger.name !== undefined)
        (lateAt.get(down) ?? lateAt.set(down, new Set()).get(down)!).add(d.trigger.name);
    }
    // Every decision, a late one too, shows the server up at its time: a second downtime soon
    // after a restart is a jump of its own, not one with the first.
    up(d.at, d.at);
  }
  if (snapshotSeed === null) survey.lifecycle = lifecycleAt(beforeStart, start, snapSeq, lifecycle);
  survey.jumps = [...downtime]
    .map(([at, to]) => {
      const late = lateAt.get(at);
      return late === undefined ? { at, to } : { at, to, late };
    })
    .sort((x, y) => x.at - y.at);
  return survey;
}

/** The journal entries after `snapSeq`: the patches to replay. */
async function* laterEntries(journal: AsyncIterable<JournalEntry>, snapSeq: number): AsyncGenerator<JournalEntry> {
  for await (const e of journal) {
    // Retention compacted the journal while it was read: patches the replay needs are gone.
    if (e.kind === "snapshot" && e.seq !== snapSeq)
      throw conflict("the object's journal was compacted while it was replayed; replay it again");
    if (e.seq > snapSeq) yield e;
  }
}

async function firstOf<T>(items: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of items) return item;
  return undefined;
}

/** An async iterator that can show its next item before taking it. */
class Peekable<T> {
  private buffered: { item: T | undefined } | null = null;

  constructor(private readonly it: AsyncIterator<T>) {}

  async peek(): Promise<T | undefined> {
    if (this.buffered === null) {
      const r = await this.it.next();
      this.buffered = { item: r.done ? undefined : r.value };
    }
    return this.buffered.item;
  }

  async next(): Promise<T | undefined> {
    const item = await this.peek();
    if (item !== undefined) this.buffered = null;
    return item;
  }
}
