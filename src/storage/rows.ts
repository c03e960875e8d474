// Rows of the store's tables turned back into the domain's records.

import type { ActionRecord } from "../core/store.ts";
import type {
  ActionKind,
  ActionStatus,
  JsonObject,
  LifecycleState,
  ObjectRecord,
  Observation,
  Timer,
  TimerKind,
} from "../core/types.ts";
import type * as t from "./schema.ts";

type ObjectRow = typeof t.objects.$inferSelect;
type ActionRow = typeof t.actions.$inferSelect;

/** The file of a `file:` URL (without its query), or null for `:memory:` and remote databases. */
export function filePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const path = decodeURIComponent(url.slice("file:".length).split("?")[0]!);
  return path === "" || path === ":memory:" ? null : path;
}

export function groupTimers(rows: (typeof t.timers.$inferSelect)[]): Map<string, Timer[]> {
  const out = new Map<string, Timer[]>();
  for (const r of rows) {
    let list = out.get(r.objectId);
    if (!list) out.set(r.objectId, (list = []));
    list.push({ name: r.name, dueAt: r.dueAt, kind: r.kind as TimerKind });
  }
  for (const list of out.values()) list.sort((a, b) => a.dueAt - b.dueAt || a.name.localeCompare(b.name));
  return out;
}

export function toObject(r: ObjectRow, timers: Timer[]): ObjectRecord {
  return {
    id: r.id,
    policy: r.policy,
    state: r.state as LifecycleState,
    stateSince: r.stateSince,
    wokeAt: r.wokeAt,
    memory: JSON.parse(r.memory) as JsonObject,
    memoryVersion: r.memoryVersion,
    substrate: {
      driver: r.driver,
      config: JSON.parse(r.driverConfig) as JsonObject,
      observed: r.observed ? (JSON.parse(r.observed) as Observation) : null,
    },
    holdUntil: r.holdUntil,
    timers,
    lastDecisionId: r.lastDecisionId,
    lastFactAt: r.lastFactAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toAction(r: ActionRow): ActionRecord {
  return {
    id: r.id,
    objectId: r.objectId,
    decisionId: r.decisionId,
    kind: r.kind as ActionKind,
    status: r.status as ActionStatus,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt,
    lastError: r.lastError,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
