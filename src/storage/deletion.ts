// Deleting an object from a libsql database. A history can be long (a million decisions when no
// retention is set), and deleting it in one transaction held the writer for seconds: every other
// write waited, the lease's renewal too, and a few such deletions at once lost the lease. So an
// object with a batch of rows or more in any table of its history is marked first (the
// `deletions` table), its history is deleted a batch at a time, each batch its own transaction,
// and the object's row goes last, with what is left of its history and the mark, in one
// transaction. An object with a short history goes in that one transaction alone, unmarked.
//
// Until the last write the object is still there, its history shrinking (decisions before their
// actions, so that no decision read meanwhile shows an action's status older than its row's; its
// timers go with the mark): its facts wait in its mailbox (the governor deletes from there), and
// a reader of its history may find part of it gone. A batch that fails, or a mark whose answer was
// lost, is a DeletionUnfinished: the governor takes the object for deleted from then on
// (governor/object-table.ts), and the DELETE sent again finishes the rest. A server stopped
// midway finds the mark when it starts again and finishes the deletion before it serves
// (finishDeletions).

import type { Client, InStatement } from "@libsql/client";
import { nextTurn } from "../core/concurrency.ts";
import { DeletionUnfinished, isPassingStorageError, LeaseLost } from "../core/errors.ts";
import type { SqlWriter } from "./sql-writer.ts";

/** Rows of one table deleted per transaction, at most (a few milliseconds of the writer). */
export const DELETION_BATCH = 5_000;

/**
 * The tables of an object's history that can grow long, each with the column after `object_id`
 * in an index that starts with it (so a batch is a range of that index). Timers are a few per
 * object and go with the mark (or, unmarked, with the object's row).
 */
const HISTORY = [
  ["idempotency", "key"],
  ["decisions", "id"],
  ["actions", "decision_id"],
  ["journal", "seq"],
] as const;

type Writes = Pick<SqlWriter, "write">;

/** Deletes the object `id` and its history: in one write if short, else marked, in batches, then the row. */
export async function deleteObjectInBatches(client: Client, data: Writes, id: string): Promise<void> {
  let long = false;
  for (const [table, key] of HISTORY) long ||= (await batchEnd(client, table, key, id)) !== null;
  if (!long) return data.write(lastWrite(id));
  let marked = false;
  try {
    // The object's timers go with the mark: none fires for an object on its way out.
    await data.write([
      { sql: "INSERT OR IGNORE INTO deletions (object_id) VALUES (?)", args: [id] },
      { sql: "DELETE FROM timers WHERE object_id = ?", args: [id] },
    ]);
    marked = true;
    await finishDeletion(client, data, id);
  } catch (e) {
    // Lost, the lease says so itself: the server stops, and the next one finishes the deletion.
    // A mark the database refused was not written (nothing changed); one whose answer was lost
    // may have been, and the object is taken for on its way out.
    if (e instanceof LeaseLost || (!marked && isPassingStorageError(e))) throw e;
    throw new DeletionUnfinished(id, e);
  }
}

/** Finishes the deletions a stopped server began. */
export async function finishDeletions(client: Client, data: Writes): Promise<void> {
  const { rows } = await client.execute("SELECT object_id FROM deletions ORDER BY object_id");
  for (const row of rows) await finishDeletion(client, data, String(row.object_id));
}

async function finishDeletion(client: Client, data: Writes, id: string): Promise<void> {
  for (const [table, key] of HISTORY)
    for (let last = await batchEnd(client, table, key, id); last !== null;) {
      await data.write([{ sql: `DELETE FROM ${table} WHERE object_id = ? AND ${key} <= ?`, args: [id, last] }]);
      await nextTurn();
      last = await batchEnd(client, table, key, id);
    }
  await data.write(lastWrite(id));
}

/**
 * The key of the object's {@link DELETION_BATCH}-th row in `table`, in the index's order (a
 * batch is every row up to it), or null when fewer are left: they go with the object's row.
 */
async function batchEnd(client: Client, table: string, key: string, id: string) {
  const { rows } = await client.execute({
    sql: `SELECT ${key} AS last FROM ${table} WHERE object_id = ? ORDER BY ${key} LIMIT 1 OFFSET ?`,
    args: [id, DELETION_BATCH - 1],
  });
  return rows[0]?.last ?? null;
}

/** The deletion itself: the object's row, the rest of its history, its timers and its mark. */
function lastWrite(id: string): InStatement[] {
  return [
    { sql: "DELETE FROM objects WHERE id = ?", args: [id] },
    ...["timers", ...HISTORY.map(([table]) => table), "deletions"].map((table) => ({
      sql: `DELETE FROM ${table} WHERE object_id = ?`,
      args: [id],
    })),
  ];
}
