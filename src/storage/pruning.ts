// What retention prunes by and with (governor/retention.ts): the oldest decisions by age, the
// objects over their decision limit, where one object's pruning by count begins, and the deletes
// (through the store's writer).

import type { Client, InStatement, InValue } from "@libsql/client";
import { actionIdAt, decisionIdAt } from "../core/id-times.ts";
import type { SqlWriter } from "./sql-writer.ts";

/**
 * The oldest decisions taken and minted before `before` (and after `after`): ids sort by time, so
 * these are a range of the primary key (`at` is checked too). An id is minted after its
 * decision's time is taken, so one taken just before a cutoff may sort after it: it goes in the
 * next run.
 */
export async function oldDecisions(
  client: Client,
  before: number,
  limit: number,
  after = "",
): Promise<{ id: string; objectId: string }[]> {
  const rows = await client.execute({
    sql: "SELECT id, object_id FROM decisions WHERE id > ? AND id < ? AND at < ? ORDER BY id LIMIT ?",
    args: [after, decisionIdAt(before), before, limit],
  });
  return rows.rows.map((r) => ({ id: String(r.id), objectId: String(r.object_id) }));
}

/**
 * A page of up to `scan` objects in id order, from after `after`, and for each whose journal has
 * entries older than `before` that are not a snapshot, the newest of them. The page is read from
 * the objects first, and the journal only within it (its key's range): bounded by what it found,
 * one read went through the journal from `after` until it found `scan` such objects, and with few
 * to fold (the journal mostly younger than the window, as every hour once the backlog is folded)
 * that was the whole journal in one read (2,000,000 entries held the event loop 0.2 to 0.4 s).
 */
export async function compactableJournal(
  client: Client,
  before: number,
  after: string | null,
  scan: number,
): Promise<{ targets: { objectId: string; seq: number }[]; next: string | null }> {
  const page = await client.execute({
    sql: "SELECT id FROM objects WHERE id > ? ORDER BY id LIMIT ?",
    args: [after ?? "", scan],
  });
  const last = page.rows.length > 0 ? String(page.rows[page.rows.length - 1]!.id) : null;
  if (last === null) return { targets: [], next: null };
  const rows = await client.execute({
    sql: "SELECT object_id, MAX(seq) AS seq FROM journal WHERE object_id > ? AND object_id <= ? AND at < ? AND kind = 'patch' GROUP BY object_id ORDER BY object_id",
    args: [after ?? "", last, before],
  });
  return {
    targets: rows.rows.map((r) => ({ objectId: String(r.object_id), seq: Number(r.seq) })),
    next: page.rows.length < scan ? null : last,
  };
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

/**
 * Deletes decisions by id, in statements of a bounded size, with their actions that are done (a
 * pending one is still to be sent), and lowers their objects' decision_count by as many (what
 * retention by count looks at: left as it was, an object whose decisions went by age stayed
 * over the limit, and was visited and recounted every hour). The actions are found by the index
 * on (object_id, decision_id), a lookup each: before migration 0006 the index had object_id
 * alone, and each statement read every action of the object.
 */
export async function deleteDecisions(writer: Pick<SqlWriter, "write">, ids: readonly string[]): Promise<number> {
  await writer.write(
    inParts(ids, (list) => [
      {
        text: `UPDATE objects SET decision_count = MAX(0, objects.decision_count - gone.n) FROM (SELECT object_id, COUNT(*) AS n FROM decisions WHERE id IN (${list}) GROUP BY object_id) AS gone WHERE objects.id = gone.object_id`,
        lists: 1,
      },
      {
        text: `DELETE FROM actions WHERE object_id IN (SELECT object_id FROM decisions WHERE id IN (${list})) AND decision_id IN (${list}) AND status <> 'pending'`,
        lists: 2,
      },
      { text: `DELETE FROM decisions WHERE id IN (${list})`, lists: 1 },
    ]),
  );
  return ids.length;
}

/** The most decisions one write of pruning by count deletes (as a step of pruning by age). */
const DELETE_BATCH = 5_000;

/**
 * Deletes all but the object's newest `keep` decisions, oldest first, at most DELETE_BATCH a
 * write (a busy object's excess does not hold the writer in one long transaction), and sets its
 * count to what is left. The newest one that goes is found once, and the batches run up to it
 * from the oldest: a prune cut short (a batch refused, the server stopped between two) leaves the
 * object's newest decisions whole, as replay expects (a kept decision means none after it is
 * gone). Newest first, it left a hole between the oldest and the newest kept.
 */
export async function pruneObjectDecisions(
  client: Client,
  writer: Pick<SqlWriter, "write">,
  objectId: string,
  keep: number,
): Promise<number> {
  const through = await decisionBeyond(client, objectId, keep);
  let deleted = 0;
  for (let after = ""; through !== null;) {
    const rows = await client.execute({
      sql: "SELECT id FROM decisions WHERE object_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
      args: [objectId, after, through, DELETE_BATCH],
    });
    const ids = rows.rows.map((r) => String(r.id));
    deleted += await deleteDecisions(writer, ids);
    if (ids.length < DELETE_BATCH) break;
    after = ids[ids.length - 1]!;
  }
  await writer.write([
    {
      sql: "UPDATE objects SET decision_count = (SELECT COUNT(*) FROM decisions WHERE object_id = ?) WHERE id = ?",
      args: [objectId, objectId],
    },
  ]);
  return deleted;
}

/**
 * Looks at up to `scan` actions created before `before`, in id order after `after` (a range of
 * the key), and deletes those done whose decision is gone (a lookup of the decisions' key each);
 * returns how many, and the last id looked at (null once the end is reached). A decision that
 * stayed (its object's fold or delete refused) keeps its actions: a decision is served with their
 * status as it is now, and without them it showed the status saved when it was taken. A page of
 * the key, not a LIMIT on what is deleted: without an age window (pruning by count alone) the
 * range is every action, most of them a kept decision's, and one read looking for `limit` to
 * delete read all of them.
 */
export async function pruneActions(
  client: Client,
  writer: Pick<SqlWriter, "write">,
  before: number,
  after: string | null,
  scan: number,
): Promise<{ deleted: number; next: string | null }> {
  const rows = await client.execute({
    sql: "SELECT id, created_at < ? AND status <> 'pending' AND NOT EXISTS (SELECT 1 FROM decisions WHERE decisions.id = actions.decision_id) AS gone FROM actions WHERE id > ? AND id < ? ORDER BY id LIMIT ?",
    args: [before, after ?? "", actionIdAt(before), scan],
  });
  const ids = rows.rows.filter((r) => Number(r.gone) === 1).map((r) => String(r.id));
  await writer.write(inParts(ids, (list) => [{ text: `DELETE FROM actions WHERE id IN (${list})`, lists: 1 }]));
  return { deleted: ids.length, next: rows.rows.length < scan ? null : String(rows.rows[rows.rows.length - 1]!.id) };
}

/**
 * Deletes up to `limit` idempotency keys first used before `before` (found by their time's
 * index), by rowid in statements of 500, not one statement a key. Each delete checks the time
 * again: a rowid read here may be another key's by the time the delete runs (an object's keys
 * deleted with it, and a new key given the freed rowid, both queued on the writer meanwhile),
 * and that key was just used.
 */
export async function pruneIdempotency(
  client: Client,
  writer: Pick<SqlWriter, "write">,
  before: number,
  limit: number,
): Promise<number> {
  const rows = await client.execute({
    sql: "SELECT rowid FROM idempotency WHERE created_at < ? ORDER BY created_at LIMIT ?",
    args: [before, limit],
  });
  const rowids = rows.rows.map((r) => Number(r.rowid));
  await writer.write(
    inParts(rowids, (list) => [
      { text: `DELETE FROM idempotency WHERE rowid IN (${list}) AND created_at < ?`, lists: 1, after: [before] },
    ]),
  );
  return rowids.length;
}

/**
 * Statements over `ids` in parts of 500 (SQLite binds at most 32,766 values): for each part, the
 * statements `sql` makes with `list`, its placeholders, each binding the part `lists` times and
 * then the values `after` (the placeholders written after the lists).
 */
export function inParts(
  ids: readonly InValue[],
  sql: (list: string) => { text: string; lists: number; after?: InValue[] }[],
): InStatement[] {
  const out: InStatement[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    for (const { text, lists, after = [] } of sql(part.map(() => "?").join(", ")))
      out.push({ sql: text, args: [...Array.from({ length: lists }, () => part).flat(), ...after] });
  }
  return out;
}
