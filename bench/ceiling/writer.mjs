// The skeleton's writer thread (server.mjs): the groups queued while it committed go in one
// transaction (WAL, synchronous = FULL), each group answered after its COMMIT. Three shapes:
//   - `append`: one row a fact in a table in arrival order (the least a durable fact can cost);
//   - `row`: that, and the object's row with its memory (an upsert by the object's id);
//   - `vigil`: what Vigil writes a fact, its schema's shape (src/storage/migrations): a journal
//     entry under the key (object_id, seq) with an index on its time, a decision under its
//     time-ordered id with the index (object_id, id), and the object's row with its memory.

import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import Database from "libsql";

const db = new Database(workerData.path, { timeout: 5 });
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = FULL");
db.exec(`
  CREATE TABLE IF NOT EXISTS arrivals (object_id TEXT NOT NULL, seq INTEGER NOT NULL, patch TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS journal (object_id TEXT NOT NULL, seq INTEGER NOT NULL, patch TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (object_id, seq));
  CREATE INDEX IF NOT EXISTS journal_at ON journal (at);
  CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY NOT NULL, object_id TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS decisions_object ON decisions (object_id, id);
  CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY NOT NULL, memory TEXT NOT NULL, updated_at INTEGER NOT NULL);
`);

/** About the size of one of Vigil's stored decisions (bench/facts.ts prints it: ~300 bytes). */
const DECISION = JSON.stringify({ outcome: "none", trigger: "fact", fired: [1, 0, 1, 0, 0], pad: "x".repeat(200) });

const prepared = new Map();
/** A multi-row INSERT (one statement a table and group, as Vigil's commit-sql.ts). */
function insert(table, columns, rows, suffix = "") {
  if (rows.length === 0) return;
  const row = `(${columns.map(() => "?").join(", ")})`;
  const sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${rows.map(() => row).join(", ")}${suffix}`;
  let s = prepared.get(sql);
  if (!s) prepared.set(sql, (s = db.prepare(sql)));
  s.run(rows.flat());
}

function write(rows) {
  const entries = rows.map(([o, seq, patch, at]) => [o, seq, patch, at]);
  if (workerData.shape === "vigil") {
    insert("journal", ["object_id", "seq", "patch", "at"], entries);
    insert(
      "decisions",
      ["id", "object_id", "at", "body"],
      rows.map(([o, , , at, id]) => [id, o, at, DECISION]),
    );
  } else insert("arrivals", ["object_id", "seq", "patch", "at"], entries);
  if (workerData.shape === "append") return;
  // The last memory of each object in the group.
  const last = new Map(rows.map(([o, , , at, , memory]) => [o, [o, memory, at]]));
  insert(
    "objects",
    ["id", "memory", "updated_at"],
    [...last.values()],
    " ON CONFLICT (id) DO UPDATE SET memory = excluded.memory, updated_at = excluded.updated_at",
  );
}

parentPort.postMessage("ready");
parentPort.on("message", (first) => {
  const groups = [first];
  for (let next; (next = receiveMessageOnPort(parentPort));) groups.push(next.message);
  let error;
  try {
    db.exec("BEGIN IMMEDIATE");
    write(groups.flatMap((g) => g.rows));
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    error = String(e);
  }
  for (const g of groups) parentPort.postMessage({ id: g.id, error });
});
