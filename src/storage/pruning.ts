// The reads retention prunes by (governor/retention.ts): the oldest decisions by age, the objects
// over their decision limit, and where one object's pruning by count begins.

import type { Client } from "@libsql/client";
import { decisionIdAt } from "../core/id-times.ts";

/**
 * The oldest decisions taken and minted before `before`: ids sort by time, so these are a range
 * of the primary key (`at` is checked too). An id is minted after its decision's time is taken,
 * so one taken just before a cutoff may sort after it: it goes in the next run.
 */
export async function oldDecisions(
  client: Client,
  before: number,
  limit: number,
): Promise<{ id: string; objectId: string }[]> {
  const rows = await client.execute({
    sql: "SELECT id, object_id FROM decisions WHERE id < ? AND at < ? ORDER BY id LIMIT ?",
    args: [decisionIdAt(before), before, limit],
  });
  return rows.rows.map((r) => ({ id: String(r.id), objectId: String(r.object_id) }));
}

/** A page of objects in id order, from after `after`, and those with more than `keep` decisions. */
export async function objectsOverDecisionLimit(
  client: Client,
  keep: number,
  after: string | null,
  scan: number,
): Promise<{ over: string[]; next: string | null }> {
  const rows = await client.execute({
    sql: "SELECT id, decision_count FROM objects WHERE id > ? ORDER BY id LIMIT ?",
    args: [after ?? "", scan],
  });
  const ids = rows.rows.map((r) => String(r.id));
  return {
    over: rows.rows.filter((r) => Number(r.decision_count) > keep).map((r) => String(r.id)),
    next: ids.length < scan ? null : ids[ids.length - 1]!,
  };
}

/** The object's newest decision after its newest `keep` (by the by-object index), or null. */
export async function decisionBeyond(client: Client, objectId: string, keep: number): Promise<string | null> {
  const rows = await client.execute({
    sql: "SELECT id FROM decisions WHERE object_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
    args: [objectId, keep],
  });
  return rows.rows.length > 0 ? String(rows.rows[0]!.id) : null;
}
