// Compiles a validated policy into what evaluation needs: its rules compiled into plain
// closures (rules-compiler.ts) and, for the policies those do not cover and for the errors
// they leave to json-rules-engine, a pool of json-rules-engine Engines (one Engine never runs
// two evaluations at once: its run state is shared) with Vigil's operators and the simple path
// resolver; and the envelope's durations in milliseconds.

import { Engine, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import { durationMs } from "./durations.ts";
import { olderThan, within } from "./operators.ts";
import { resolvePath } from "./paths.ts";
import type { EventDocument, PolicyDocument } from "./policy.ts";
import { compileRules, type CompiledRules, type RulesEvaluator } from "./rules-compiler.ts";
import type { Schedule } from "./schedule.ts";
import type { JsonObject, SleepMode } from "./types.ts";

export { toEpochMs } from "./operators.ts";

/** Which engine evaluates a policy's rules, and why when it is not the compiled one. */
export interface EngineChoice {
  name: "compiled" | "json-rules-engine";
  reason?: string;
}

export interface CompiledPolicy {
  name: string;
  version: string;
  /** sha256 of the source text; identifies this exact version. */
  hash: string;
  document: PolicyDocument;
  defaults: JsonObject;
  sleep: SleepMode;
  minActiveMs: number;
  minDormantMs: number;
  /** Rule name -> its event, as written (json-rules-engine hands back clones). */
  events: Map<string, EventDocument>;
  schedules: Schedule[];
  /** Rule names in file order, for stable output. */
  ruleOrder: string[];
  /** The engine evaluateRules runs this policy on. */
  engine: EngineChoice;
  /** The compiled rules; null when the policy runs on json-rules-engine. */
  evaluator: RulesEvaluator | null;
  /** json-rules-engine: the fallback, and the reference the compiled rules are tested against. */
  engines: EnginePool;
  /**
   * Told the weight of each evaluation before it runs (evaluation-weight.ts), and throws to
   * refuse it: set on the policies of what-if requests, whose documents and facts any `read`
   * token sends. Unset, nothing is weighed.
   */
  weigh?: (weight: number) => void;
}

/** The per-run context Vigil's operators read; one per Engine, set before each run. */
export interface RunContext {
  now: number;
}

export interface PooledEngine {
  engine: Engine;
  context: RunContext;
}

/**
 * A small pool: evaluations of different objects under one policy run side by side, each on
 * its own Engine. json-rules-engine loses results when one Engine runs twice at once.
 */
export class EnginePool {
  private readonly idle: PooledEngine[] = [];
  private readonly waiting: { resolve: (e: PooledEngine) => void; reject: (error: unknown) => void }[] = [];
  private created = 0;

  constructor(
    private readonly build: () => PooledEngine,
    private readonly max = 4,
  ) {}

  async use<T>(fn: (e: PooledEngine) => Promise<T>): Promise<T> {
    const e = await this.acquire();
    let ok = false;
    try {
      const result = await fn(e);
      ok = true;
      return result;
    } finally {
      if (ok) this.release(e);
      else this.discard();
    }
  }

  private acquire(): Promise<PooledEngine> | PooledEngine {
    const e = this.idle.pop();
    if (e) return e;
    if (this.created < this.max) return this.create();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** A new Engine; one json-rules-engine refuses to build is not counted (nothing would free it). */
  private create(): PooledEngine {
    this.created++;
    try {
      return this.build();
    } catch (error) {
      this.created--;
      throw error;
    }
  }

  private release(e: PooledEngine): void {
    const next = this.waiting.shift();
    if (next) next.resolve(e);
    else this.idle.push(e);
  }

  /**
   * Drops the Engine of a run that threw: json-rules-engine goes on with the rest of that run
   * and then marks the Engine finished, which would cut short a run started on it meanwhile.
   */
  private discard(): void {
    this.created--;
    const next = this.waiting.shift();
    if (!next) return;
    try {
      next.resolve(this.create());
    } catch (error) {
      next.reject(error);
    }
  }

  get size(): number {
    return this.created;
  }
}

/** Builds one Engine for a policy with Vigil's operators bound to `context`. */
export function buildEngine(doc: PolicyDocument): PooledEngine {
  const context: RunContext = { now: 0 };
  const engine = new Engine([], {
    allowUndefinedFacts: false,
    pathResolver: resolvePath,
  });
  engine.addOperator("olderThan", (fact: unknown, value: unknown) => olderThan(context.now, fact, value));
  engine.addOperator("within", (fact: unknown, value: unknown) => within(context.now, fact, value));
  for (const [name, condition] of Object.entries(doc.conditions ?? {})) {
    engine.setCondition(name, condition as TopLevelCondition);
  }
  for (const rule of doc.rules) {
    const props: RuleProperties = {
      name: rule.name,
      conditions: rule.conditions as TopLevelCondition,
      event: { type: rule.event.type, params: { rule: rule.name } },
    };
    if (rule.priority !== undefined) props.priority = rule.priority;
    engine.addRule(props);
  }
  return { engine, context };
}

export interface CompileOptions {
  /** Run on json-rules-engine even when the rules compile (benchmarks, differential tests). */
  engine?: "compiled" | "json-rules-engine";
}

/** Compiles a validated policy document. */
export function compilePolicy(doc: PolicyDocument, hash: string, options: CompileOptions = {}): CompiledPolicy {
  const events = new Map<string, EventDocument>();
  for (const rule of doc.rules) events.set(rule.name, rule.event);
  const rules: CompiledRules =
    options.engine === "json-rules-engine"
      ? { ok: false, reason: "json-rules-engine was asked for" }
      : compileRules(doc);
  return {
    name: doc.name,
    version: doc.version,
    hash,
    document: doc,
    defaults: (doc.defaults ?? {}) as JsonObject,
    sleep: doc.sleep ?? "suspend",
    minActiveMs: doc.dwell?.minActive ? durationMs(doc.dwell.minActive) : 0,
    minDormantMs: doc.dwell?.minDormant ? durationMs(doc.dwell.minDormant) : 0,
    events,
    schedules: (doc.schedules ?? []).map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone })),
    ruleOrder: doc.rules.map((r) => r.name),
    engine: rules.ok ? { name: "compiled" } : { name: "json-rules-engine", reason: rules.reason },
    evaluator: rules.ok ? rules.evaluate : null,
    engines: new EnginePool(() => buildEngine(doc)),
  };
}
