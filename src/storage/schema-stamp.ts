// Which schema a database has: drizzle's migrator records each migration it applied in
// `__drizzle_migrations`, with the time stamp of its entry in migrations/meta/_journal.json.
// The newest one names the schema; a reader that must not migrate compares it with its own.

import type { Client } from "@libsql/client";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const JOURNAL = fileURLToPath(new URL("./migrations/meta/_journal.json", import.meta.url));

/** The stamp of the newest migration this Vigil has. */
export function currentSchemaStamp(): number {
  const journal = JSON.parse(readFileSync(JOURNAL, "utf8")) as { entries: { when: number }[] };
  return Math.max(...journal.entries.map((e) => e.when));
}

/** The stamp of the newest migration applied to the database, or null when it has none. */
export async function schemaStamp(client: Client): Promise<number | null> {
  const table = await client.execute(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'",
  );
  if (table.rows.length === 0) return null;
  const newest = await client.execute("SELECT MAX(created_at) AS stamp FROM __drizzle_migrations");
  const stamp = newest.rows[0]?.stamp;
  return stamp === null || stamp === undefined ? null : Number(stamp);
}
