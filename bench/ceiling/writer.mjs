// The skeleton's writer thread (server.mjs): the groups queued while it committed go in one
// transaction (WAL, synchronous = FULL), each group answered after its COMMIT. Four shapes:
//   - `append`: one row a fact in a table in arrival order (the least a durable fact can cost);
//   - `row`: that, and the object's row with its memory (an upsert by the object's id);
//   - `vigil`: what Vigil writes a fact, its schema's shape (src/storage/migrations): a journal
//     entry under the key (object_id, seq) with an index on its time, a decision under its
//     time-ordered id with the index (object_id, id), and the object's row with its memory;
//   - `tree`: a layout Vigil does not have, measured as a candidate: an arrival's journal entry and
//     its decision in one row of one tree keyed by (object_id, seq), a decision found by its id
//     through a small appended index (id -> object_id, seq), and the object's row: two random
//     pages an arrival (its object's history and its object's row) instead of Vigil's three.
// An object's row has the columns of Vigil's (so about its width); it is written when the object
// is created (PUT, in the order the bench creates objects) and updated by each fact, leaving the
// columns Vigil indexes as they are (as Vigil does when they do not change).

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
  CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY NOT NULL, policy TEXT NOT NULL, state TEXT NOT NULL, state_since INTEGER NOT NULL,
    woke_at INTEGER, memory TEXT NOT NULL, memory_version INTEGER NOT NULL, driver TEXT NOT NULL,
    driver_config TEXT NOT NULL, observed TEXT, hold_until INTEGER, last_decision_id TEXT,
    last_fact_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, decision_count INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS history (
    object_id TEXT NOT NULL, seq INTEGER NOT NULL, patch TEXT NOT NULL, at INTEGER NOT NULL,
    decision_id TEXT NOT NULL, decision TEXT NOT NULL, PRIMARY KEY (object_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS decision_ids (id TEXT PRIMARY KEY NOT NULL, object_id TEXT NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS objects_state ON objects (state, id);
  CREATE INDEX IF NOT EXISTS objects_policy ON objects (policy, id);
  CREATE INDEX IF NOT EXISTS objects_driver ON objects (driver, id);
`);

/** About the size of the body of one of Vigil's stored decisions (bench/facts.ts prints their bytes). */
const DECISION = JSON.stringify({ o: "none", t: "fact", f: [1, 0, 1, 0, 0], pad: "x".repeat(100) });

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

const OBJECT_COLUMNS = [
  "id",
  "policy",
  "state",
  "state_since",
  "memory",
  "memory_version",
  "driver",
  "driver_config",
  "last_decision_id",
  "last_fact_at",
  "created_at",
  "updated_at",
  "decision_count",
];
/** Updates what a fact changes, not the columns Vigil indexes (state, policy, driver). */
const UPDATE_OBJECT = ` ON CONFLICT (id) DO UPDATE SET ${[
  "memory",
  "memory_version",
  "last_decision_id",
  "last_fact_at",
  "updated_at",
]
  .map((c) => `${c} = excluded.${c}`)
  .join(", ")}, decision_count = objects.decision_count + 1`;

/** The most facts of one object a transaction has carried (one: an object's arrivals are taken in turn). */
let together = 0;

function write(writes) {
  const facts = writes.filter((w) => w.kind === "fact");
  const per = new Map();
  for (const f of facts) per.set(f.object, (per.get(f.object) ?? 0) + 1);
  together = Math.max(together, ...per.values());
  const entries = facts.map((f) => [f.object, f.seq, f.patch, f.at]);
  if (workerData.shape === "vigil") {
    insert("journal", ["object_id", "seq", "patch", "at"], entries);
    insert(
      "decisions",
      ["id", "object_id", "at", "body"],
      facts.map((f) => [f.decision, f.object, f.at, DECISION]),
    );
  } else if (workerData.shape === "tree") {
    insert(
      "history",
      ["object_id", "seq", "patch", "at", "decision_id", "decision"],
      facts.map((f) => [f.object, f.seq, f.patch, f.at, f.decision, DECISION]),
    );
    insert(
      "decision_ids",
      ["id", "object_id", "seq"],
      facts.map((f) => [f.decision, f.object, f.seq]),
    );
  } else insert("arrivals", ["object_id", "seq", "patch", "at"], entries);
  if (workerData.shape === "append") return;
  // Each object once a statement (an arrival for an object is taken only after the one before it
  // committed, so a group holds at most one of each).
  const rows = writes.map((w) => [
    w.object,
    "five-rules",
    "dormant",
    w.at,
    w.memory,
    w.seq ?? 0,
    "simulated",
    '{"startMs":1500,"stopMs":800}',
    w.decision ?? null,
    w.kind === "fact" ? w.at : null,
    w.at,
    w.at,
    1,
  ]);
  insert("objects", OBJECT_COLUMNS, rows, UPDATE_OBJECT);
}

/** What the skeleton's claim rests on, as this connection and its transactions have it (for the tests). */
function report() {
  const value = (name) => Object.values(db.prepare(`PRAGMA ${name}`).get())[0];
  const writer = { journal_mode: value("journal_mode"), synchronous: value("synchronous"), together };
  parentPort.postMessage({ writer });
}

parentPort.postMessage("ready");
parentPort.on("message", (first) => {
  const groups = [];
  for (let m = first; m; m = receiveMessageOnPort(parentPort)?.message) {
    if (m.report) report();
    else groups.push(m);
  }
  if (groups.length === 0) return;
  let error;
  try {
    db.exec("BEGIN IMMEDIATE");
    write(groups.flatMap((g) => g.writes));
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    error = String(e);
  }
  for (const g of groups) parentPort.postMessage({ id: g.id, error });
});
