// Compiles a validated policy into what evaluation needs: a pool of json-rules-engine Engines
// (one Engine never runs two evaluations at once: its run state is shared), Vigil's operators,
// the simple path resolver, and the envelope's durations in milliseconds.

import { Engine, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import { durationMs } from "./durations.ts";
import { resolvePath } from "./paths.ts";
import type { EventDocument, PolicyDocument } from "./policy.ts";
import type { Schedule } from "./schedule.ts";
import type { JsonObject, SleepMode } from "./types.ts";

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
  engines: EnginePool;
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
  private readonly waiting: ((e: PooledEngine) => void)[] = [];
  private created = 0;

  constructor(
    private readonly build: () => PooledEngine,
    private readonly max = 4,
  ) {}

  async use<T>(fn: (e: PooledEngine) => Promise<T>): Promise<T> {
    const e = await this.acquire();
    try {
      return await fn(e);
    } finally {
      this.release(e);
    }
  }

  private acquire(): Promise<PooledEngine> | PooledEngine {
    const e = this.idle.pop();
    if (e) return e;
    if (this.created < this.max) {
      this.created++;
      return this.build();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(e: PooledEngine): void {
    const next = this.waiting.shift();
    if (next) next(e);
    else this.idle.push(e);
  }

  get size(): number {
    return this.created;
  }
}

/** Parses a timestamp fact value: epoch milliseconds or an ISO 8601 string. */
export function toEpochMs(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

const durationCache = new Map<string, number>();
function cachedDuration(text: unknown): number | null {
  if (typeof text !== "string") return null;
  let ms = durationCache.get(text);
  if (ms === undefined) {
    try {
      ms = durationMs(text);
    } catch {
      return null;
    }
    durationCache.set(text, ms);
  }
  return ms;
}

/** Builds one Engine for a policy with Vigil's operators bound to `context`. */
export function buildEngine(doc: PolicyDocument): PooledEngine {
  const context: RunContext = { now: 0 };
  const engine = new Engine([], {
    allowUndefinedFacts: false,
    pathResolver: resolvePath,
  });
  // olderThan: the timestamp lies more than the duration before now.
  engine.addOperator("olderThan", (fact: unknown, value: unknown) => {
    const t = toEpochMs(fact);
    const d = cachedDuration(value);
    return t !== null && d !== null && context.now - t > d;
  });
  // within: the timestamp lies within the duration of now, before or after.
  engine.addOperator("within", (fact: unknown, value: unknown) => {
    const t = toEpochMs(fact);
    const d = cachedDuration(value);
    return t !== null && d !== null && Math.abs(context.now - t) <= d;
  });
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

/** Compiles a validated policy document. */
export function compilePolicy(doc: PolicyDocument, hash: string): CompiledPolicy {
  const events = new Map<string, EventDocument>();
  for (const rule of doc.rules) events.set(rule.name, rule.event);
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
    engines: new EnginePool(() => buildEngine(doc)),
  };
}
