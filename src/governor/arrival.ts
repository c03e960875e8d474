// The arrival pipeline, run inside the object's mailbox: decide (merge, evaluate, resolve,
// transition) -> ONE commit of memory, journal, decision, actions and timers -> hand the
// actions to the dispatcher -> publish. Nothing is acknowledged before it is committed.

import type { CompiledPolicy } from "../core/compile.ts";
import { decide, type Arrival, type DecideResult } from "../core/decide.ts";
import { RuleFailed } from "../core/evaluate.ts";
import { TooCostly } from "../core/evaluation-weight.ts";
import { invalid, prefixProblems, type VigilError } from "../core/errors.ts";
import { MemoryLimitError, type MemoryLimits } from "../core/memory-limits.ts";
import { pendingAction, type CommitBatch } from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { GovernorEvents } from "./events.ts";
import type { ObjectTable } from "./object-table.ts";

/**
 * A timer tick that fired nothing and changed nothing but its own re-arming: counted, not
 * stored, so that a monitor's minute tick does not bury the decisions that matter.
 */
export function isQuietTick({ decision }: DecideResult): boolean {
  return (
    decision.trigger.kind === "timer" &&
    decision.fired.length === 0 &&
    decision.outcome === "none" &&
    decision.fromState === decision.toState &&
    decision.notes.length === 0 &&
    decision.timers.every((t) => t.kind === "cron" && t.op === "set")
  );
}

export interface ArrivalDeps {
  table: ObjectTable;
  dispatcher: Dispatcher;
  events: GovernorEvents;
  newId: (kind: "decision" | "action") => string;
  canSuspend: (driver: string) => boolean;
  limits: MemoryLimits;
  /**
   * Whether every policy evaluated came in a request, as a replay's candidate does: a rule that
   * throws is then named by its path in the request, not by a policy file that is not its own.
   */
  candidates?: boolean;
}

export class ArrivalPipeline {
  /** Evaluations, and how many of them left a decision (quiet timer ticks are only counted). */
  readonly counters = { evaluations: 0, decisions: 0 };

  constructor(private readonly deps: ArrivalDeps) {}

  /**
   * Decides without committing. A patch that breaks a memory limit, or a rule that throws at
   * run time (json-rules-engine on `swap:in` over a missing path), is an `invalid` error and
   * nothing changes. Its problem's path is the rule's in the request when the policy came in it
   * (a dry run's `candidate`); else the request's root, the message naming the policy's file.
   */
  async decide(
    policy: CompiledPolicy,
    object: ObjectRecord,
    arrival: Arrival,
    dryRun = false,
    candidate = this.deps.candidates ?? false,
  ): Promise<DecideResult> {
    try {
      return await decide(policy, object, arrival, {
        newId: this.deps.newId,
        canSuspend: this.deps.canSuspend,
        limits: this.deps.limits,
        dryRun,
      });
    } catch (e) {
      if (e instanceof MemoryLimitError)
        throw invalid("the facts break a memory limit", prefixProblems(e.problems, "$.facts"));
      if (e instanceof TooCostly)
        throw tooCostly(e, candidate, arrival.patch !== undefined && Object.keys(arrival.patch).length > 0);
      const at = `policy ${policy.name}@${policy.version}`;
      const index = e instanceof RuleFailed ? policy.ruleOrder.indexOf(e.rule) : -1;
      const rule = index < 0 ? "" : `rules[${index}]`;
      const problem = candidate
        ? {
            path: rule ? `$.policy.${rule}` : "$.policy",
            message: "an operator of this rule received a value of the wrong type",
          }
        : {
            path: "$",
            message: `an operator of ${rule ? `${rule} of ` : "a rule of "}${policy.name}.json received a value of the wrong type from a fact it reads (memory, the trigger...): fix the rule, or the memory`,
          };
      const which = e instanceof RuleFailed ? `rule "${e.rule}": ` : "";
      throw invalid(`${at} failed to evaluate: ${which}${(e as Error).message}`, [problem]);
    }
  }

  /** Decides, commits and publishes. Call inside the object's mailbox. */
  async run(
    object: ObjectRecord,
    policy: CompiledPolicy,
    arrival: Arrival,
    options: {
      /** An Idempotency-Key and the request's fingerprint, kept with the decision's id. */
      idempotency?: { key: string; fingerprint: string };
      /**
       * The object's queued actions are superseded whatever this decides (not only by actions of
       * its own): a waking object seen stopped, whose start in its backoff would otherwise bring
       * up compute under an object its rules have left dormant.
       */
      supersedeQueued?: boolean;
      /**
       * Actions already taken from the dispatcher (a rebind's), recorded superseded in the same
       * commit as the decision (all of it is on record, or none), and `tell`, which tells
       * watchers so once it is, before the decision's own events.
       */
      superseded?: { ids: readonly string[]; tell: () => void };
    } = {},
  ): Promise<{ object: ObjectRecord; decision: Decision }> {
    const { idempotency, supersedeQueued = false, superseded } = options;
    const { table, dispatcher, events } = this.deps;
    const started = performance.now();
    const result = await this.decide(policy, object, arrival);
    const now = arrival.at;
    const actions = result.actions.map((a) => pendingAction(a.id, object, result.decision.id, a.kind, now));
    const replaced = actions.length > 0 || supersedeQueued ? dispatcher.queuedActions(object.id) : [];
    const supersede = replaced.map((a) => a.id);
    const stored = !isQuietTick(result);
    const next = stored ? result.object : { ...result.object, lastDecisionId: object.lastDecisionId };
    const batch: CommitBatch = {
      object: next,
      // Creation journals the initial memory as entry 0, so that history replays from the start.
      journal: arrival.trigger.kind === "create" ? { seq: 0, patch: object.memory, at: now } : result.journal,
      decision: stored ? result.decision : null,
      actions,
      supersede: superseded ? [...superseded.ids, ...supersede] : supersede,
      timerOps: result.timerOps,
      idempotency: idempotency ? { ...idempotency, decisionId: result.decision.id } : null,
    };
    await table.commit(batch);
    superseded?.tell();
    const ms = performance.now() - started;
    this.counters.evaluations++;
    dispatcher.supersede(object.id, supersede);
    dispatcher.enqueue(actions);
    events.superseded(replaced, now);
    events.emit("evaluation:completed", result.decision, stored, ms);
    if (stored) {
      this.counters.decisions++;
      events.emit("decision:recorded", result.decision);
    }
    return { object: next, decision: result.decision };
  }
}

/**
 * A what-if evaluation refused for its weight: the candidate's comparisons (its path), or the
 * object's own policy over its memory and the facts sent (theirs, when any were sent).
 */
export function tooCostly(e: TooCostly, candidate: boolean, factsSent = false): VigilError {
  const problem = candidate
    ? { path: "$.policy", message: "its comparisons over this object's memory compare too much: compare shorter lists" }
    : {
        path: factsSent ? "$.facts" : "$",
        message: `the policy's comparisons over the object's memory${factsSent ? " and these facts" : ""} compare too much`,
      };
  return invalid(`the ${candidate ? "candidate policy" : "dry run"} was not evaluated: ${e.message}`, [problem]);
}
