// Which schema a database has: drizzle's migrator records each migration it applied in
// `__drizzle_migrations`, with the time stamp of its entry in migrations/meta/_journal.json.
// The newest one names the schema; a reader that must not migrate compares it with its own.

import type { Client } from "@libsql/client";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const JOURNAL = fileURLToPath(new URL("./migrations/meta/_journal.json", import.meta.url));

/** The stamp of the newest migration this Vigil has. */
export function currentSchemaStamp(): number {
  return Math.max(...journalStamps());
}

/** The stamps of this Vigil's migrations. */
function journalStamps(): number[] {
  const journal = JSON.parse(readFileSync(JOURNAL, "utf8")) as { entries: { when: number }[] };
  return journal.entries.map((e) => e.when);
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

/** Why migrate refuses a database that has tables and is not Vigil's; the file is left as it was. */
export class ForeignDatabase extends Error {}

/** Why migrate refuses a database a newer Vigil has migrated; the file is left as it was. */
export class NewerDatabase extends Error {}

/**
 * Refuses, before anything is written (journal_mode = WAL is a write, and for good), a database
 * migrate must not write: another program's (tables, but not Vigil's migrations: drizzle's table
 * is not enough, another drizzle program has one too; Vigil's first migration must be in it), or
 * a newer Vigil's (drizzle would pass over its schema silently). An empty database is Vigil's to make.
 */
export async function refuseSchema(client: Client): Promise<void> {
  const { rows } = await client.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
  const names = rows.map((r) => String(r.name)).filter((n) => n !== "__drizzle_migrations");
  const vigils =
    names.length < rows.length
      ? (await client.execute("SELECT MIN(created_at) AS first, MAX(created_at) AS newest FROM __drizzle_migrations"))
          .rows[0]
      : undefined;
  if (names.length > 0 && Number(vigils?.first ?? NaN) !== Math.min(...journalStamps())) {
    const shown = names.slice(0, 3).join(", ") + (names.length > 3 ? ", …" : "");
    throw new ForeignDatabase(`it is not a Vigil database (it has tables of its own: ${shown}); it was left untouched`);
  }
  if (vigils?.newest !== null && vigils?.newest !== undefined && Number(vigils.newest) > currentSchemaStamp())
    throw new NewerDatabase(
      "the database's schema is newer than this Vigil's: serve it with the Vigil that wrote it, or a newer one",
    );
}
