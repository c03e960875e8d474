// The libsql store's reads of history for the event stream and usage (core/store.ts
// DecisionReads): decisions after an id across objects (the primary key's order), and one
// object's decisions as bare state changes, read from the stored bodies without rebuilding
// their explanations.

import type { Client, InValue } from "@libsql/client";
import type { DecisionReads, StateChange, StateChangeQuery } from "../core/store.ts";
import { LIFECYCLE_STATES, type ActionStatus, type Decision, type LifecycleState } from "../core/types.ts";
import type { PolicyVersions } from "./policy-versions.ts";

/** Ids per `IN (...)` list, well below SQLite's limit on parameters. */
const IN_CHUNK = 500;

interface DecisionRow {
  id: string;
  objectId: string;
  at: number;
  body: string;
}

const rowOf = (r: Record<string, unknown>): DecisionRow => ({
  id: String(r.id),
  objectId: String(r.object_id),
  at: Number(r.at),
  body: String(r.body),
});

/** What usage needs of a stored body: the states, and the ids of the decision's actions. */
export function statesOf(body: string): { fromState: LifecycleState; toState: LifecycleState; actions: string[] } {
  const parsed = JSON.parse(body) as unknown;
  if (Array.isArray(parsed)) {
    // The compact layout of decision-codec.ts: [format, policy key, trigger, trigger name, late,
    // memory version, outcome, from, to, actions as [id, kind, status], ...].
    const actions = parsed[9] as [string, number, number][];
    return {
      fromState: LIFECYCLE_STATES[parsed[7] as number]!,
      toState: LIFECYCLE_STATES[parsed[8] as number]!,
      actions: actions.map((a) => a[0]),
    };
  }
  const d = parsed as Decision;
  return { fromState: d.fromState, toState: d.toState, actions: d.actions.map((a) => a.id) };
}

export class LibsqlDecisionReads implements DecisionReads {
  constructor(
    private readonly client: Client,
    private readonly versions: PolicyVersions,
  ) {}

  async since(after: string, limit: number, objectId?: string): Promise<Decision[]> {
    // Without an object, a range of the primary key; with one, of the index on (object_id, id).
    const rows = await this.client.execute(
      objectId === undefined
        ? {
            sql: "SELECT id, object_id, at, body FROM decisions WHERE id > ? ORDER BY id LIMIT ?",
            args: [after, limit],
          }
        : {
            sql: "SELECT id, object_id, at, body FROM decisions WHERE object_id = ? AND id > ? ORDER BY id LIMIT ?",
            args: [objectId, after, limit],
          },
    );
    const decisions = await Promise.all(rows.rows.map((r) => this.versions.decode(rowOf(r))));
    const status = new Map<string, ActionStatus>();
    const ids = decisions.flatMap((d) => d.actions.map((a) => a.id));
    for (const r of await this.actions("SELECT id, status FROM actions WHERE id IN", ids))
      status.set(String(r.id), r.status as ActionStatus);
    return decisions.map((d) => ({
      ...d,
      actions: d.actions.map((a) => ({ ...a, status: status.get(a.id) ?? a.status })),
    }));
  }

  async decisionOf(actionId: string): Promise<string | null> {
    const r = await this.client.execute({ sql: "SELECT decision_id FROM actions WHERE id = ?", args: [actionId] });
    return r.rows[0] ? String(r.rows[0].decision_id) : null;
  }

  async stateChanges(objectId: string, q: StateChangeQuery): Promise<StateChange[]> {
    const where = ["object_id = ?"];
    const args: InValue[] = [objectId];
    for (const [op, id] of [
      [">", q.after],
      ["<", q.before],
    ] as const) {
      if (id === undefined) continue;
      where.push(`id ${op} ?`);
      args.push(id);
    }
    const order = q.order === "desc" ? "DESC" : "ASC";
    const rows = await this.client.execute({
      sql: `SELECT id, object_id, at, body FROM decisions WHERE ${where.join(" AND ")} ORDER BY id ${order} LIMIT ?`,
      args: [...args, q.limit],
    });
    const changes = rows.rows.map((r) => ({ row: rowOf(r), ...statesOf(String(r.body)) }));
    const confirmed = new Map<string, number>();
    const ids = changes.flatMap((c) => c.actions);
    for (const r of await this.actions("SELECT id, updated_at FROM actions WHERE status = 'confirmed' AND id IN", ids))
      confirmed.set(String(r.id), Number(r.updated_at));
    return changes.map(({ row, fromState, toState, actions }) => {
      const times = actions.flatMap((a) => (confirmed.has(a) ? [confirmed.get(a)!] : []));
      return { id: row.id, at: row.at, fromState, toState, confirmedAt: times.length > 0 ? Math.max(...times) : null };
    });
  }

  /** Runs `sql (?, ?, ...)` over the ids, a chunk at a time. */
  private async actions(sql: string, ids: string[]): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const part = ids.slice(i, i + IN_CHUNK);
      const r = await this.client.execute({ sql: `${sql} (${part.map(() => "?").join(", ")})`, args: part });
      out.push(...(r.rows as unknown as Record<string, unknown>[]));
    }
    return out;
  }
}
