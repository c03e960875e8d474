// Counts the governor's census starts from (core/store.ts countObjects, countTimers), and the
// newest ids its ids continue after, as SQL text that reads indexes rather than rows: one
// GROUP BY over objects' policy and state would read every row (seconds for a million
// objects); the index on policy counts each policy, the index on state finds the few objects
// that are not dormant, and dormant is what is left.

import type { Client } from "@libsql/client";
import type { ObjectCount } from "../core/store.ts";
import { LIFECYCLE_STATES, type LifecycleState } from "../core/types.ts";

const AWAKE = LIFECYCLE_STATES.filter((s) => s !== "dormant");
const PER_POLICY = "SELECT policy, COUNT(*) AS n FROM objects GROUP BY policy";
const AWAKE_PER_POLICY = `SELECT policy, state, COUNT(*) AS n FROM objects WHERE state IN (${AWAKE.map(() => "?").join(", ")}) GROUP BY policy, state`;

/** How many objects each policy has in each state; pairs with none are left out. */
export async function objectCounts(client: Client): Promise<ObjectCount[]> {
  const totals = (await client.execute(PER_POLICY)).rows;
  const awake = (await client.execute({ sql: AWAKE_PER_POLICY, args: AWAKE })).rows;
  const dormant = new Map(totals.map((r) => [String(r.policy), Number(r.n)]));
  const out: ObjectCount[] = [];
  for (const r of awake) {
    const policy = String(r.policy);
    out.push({ policy, state: String(r.state) as LifecycleState, objects: Number(r.n) });
    dormant.set(policy, (dormant.get(policy) ?? 0) - Number(r.n));
  }
  for (const [policy, objects] of dormant) if (objects > 0) out.push({ policy, state: "dormant", objects });
  return out;
}

/** How many timers are pending (the primary key's index, not the rows). */
export async function timerCount(client: Client): Promise<number> {
  const [row] = (await client.execute("SELECT COUNT(*) AS n FROM timers")).rows;
  return Number(row?.n ?? 0);
}

/** The greatest decision id and action id (each the end of its primary key's index). */
export async function newestIds(client: Client): Promise<string[]> {
  const { rows } = await client.execute(
    "SELECT (SELECT MAX(id) FROM decisions) AS decision, (SELECT MAX(id) FROM actions) AS action",
  );
  return [rows[0]?.decision, rows[0]?.action].filter((id) => typeof id === "string");
}
