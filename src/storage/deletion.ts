// Deleting an object from a libsql database. A history can be long (a million decisions when no
// retention is set), and deleting it in one transaction held the writer for seconds: every other
// write waited, the lease's renewal too, and a few such deletions at once lost the lease. So the
// object is marked first (the `deletions` table), its history is deleted a batch at a time, each
// batch its own transaction, and the object's row goes last, with what is left of its history and
// the mark, in one transaction: the deletion happens there.
//
// Until then the object is still there, its history shrinking: its facts and timers wait in its
// mailbox (the governor deletes from there), and a reader of its history (a listing, a replay)
// may find part of it gone. A server stopped midway finds the mark when it starts again and
// finishes the deletion before it serves (finishDeletions), so a half-deleted object never
// outlives the server that began it.

import type { Client, InStatement } from "@libsql/client";
import { nextTurn } from "../core/concurrency.ts";
import type { SqlWriter } from "./sql-writer.ts";

/** Rows of one table deleted per transaction, at most (a few milliseconds of the writer). */
export const DELETION_BATCH = 5_000;

/**
 * The tables of an object's history that can grow long, each with the column after `object_id`
 * in an index that starts with it (so a batch is a range of that index). Timers are a few per
 * object and go with the object's row.
 */
const HISTORY = [
  ["idempotency", "key"],
  ["actions", "decision_id"],
  ["decisions", "id"],
  ["journal", "seq"],
] as const;

type Writes = Pick<SqlWriter, "write">;

/** Deletes the object `id` and its history: marked, then a batch at a time, then the row. */
export async function deleteObjectInBatches(
  client: Client,
  data: Writes,
  id: string,
  batch = DELETION_BATCH,
): Promise<void> {
  await data.write([{ sql: "INSERT OR IGNORE INTO deletions (object_id) VALUES (?)", args: [id] }]);
  await finishDeletion(client, data, id, batch);
}

/** Finishes the deletions a stopped server began; how many there were. */
export async function finishDeletions(client: Client, data: Writes, batch = DELETION_BATCH): Promise<number> {
  const { rows } = await client.execute("SELECT object_id FROM deletions ORDER BY object_id");
  for (const row of rows) await finishDeletion(client, data, String(row.object_id), batch);
  return rows.length;
}

async function finishDeletion(client: Client, data: Writes, id: string, batch: number): Promise<void> {
  for (const [table, key] of HISTORY) {
    for (;;) {
      // The batch's last row in the index's order: the batch is every row up to it.
      const { rows } = await client.execute({
        sql: `SELECT ${key} AS last FROM ${table} WHERE object_id = ? ORDER BY ${key} LIMIT 1 OFFSET ?`,
        args: [id, batch - 1],
      });
      const last = rows[0]?.last;
      // Fewer rows than a batch: they go with the object's row. (The key is never null.)
      if (last === undefined || last === null) break;
      await data.write([{ sql: `DELETE FROM ${table} WHERE object_id = ? AND ${key} <= ?`, args: [id, last] }]);
      await nextTurn();
    }
  }
  const last: InStatement[] = [
    { sql: "DELETE FROM objects WHERE id = ?", args: [id] },
    ...["timers", ...HISTORY.map(([table]) => table), "deletions"].map((table) => ({
      sql: `DELETE FROM ${table} WHERE object_id = ?`,
      args: [id],
    })),
  ];
  await data.write(last);
}
