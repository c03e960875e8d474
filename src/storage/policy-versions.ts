// The policy versions stored decisions refer to: a small key per content hash, the document
// kept once in `policy_versions`, and the decision encoder and decoder that use them. A version
// is written in the same transaction as the first decision taken under it.

import type { Client, InStatement } from "@libsql/client";
import type { PolicyDocument } from "../core/policy.ts";
import type { PolicySource } from "../core/store.ts";
import type { Decision } from "../core/types.ts";
import type { DecisionEncoder } from "./commit-sql.ts";
import { decodeDecision, encodeDecision, policyKeyOf, type PolicyRef } from "./decision-codec.ts";

export class PolicyVersions {
  private readonly byHash = new Map<string, PolicyRef>();
  private readonly byKey = new Map<number, PolicyRef>();
  /** Versions whose first decision is on its way to disk, with the statement that stores them. */
  private readonly pending = new Map<string, { ref: PolicyRef; insert: InStatement }>();
  private nextKey = 1;

  constructor(
    private readonly client: Client,
    /** The document of a loaded version by hash (the policy registry), or null. */
    private source: (hash: string) => PolicySource | null,
  ) {}

  /** Where documents come from from now on. */
  use(source: (hash: string) => PolicySource | null): void {
    this.source = source;
  }

  /** Reads the stored versions (a handful of rows: one per version ever used). */
  async load(): Promise<void> {
    const rows = await this.client.execute("SELECT key, hash, name, version, document FROM policy_versions");
    for (const r of rows.rows) this.remember(refOf(r));
    const max = await this.client.execute("SELECT COALESCE(MAX(key), 0) AS k FROM policy_versions");
    this.nextKey = Number(max.rows[0]!.k) + 1;
  }

  /**
   * The version of policy `name` to serve at start when its file did not load, or null: the one
   * the newest decision of its objects was taken under, else the one stored last. A row is
   * written when a version is first used, so a file edited back to an earlier version's text
   * (v1, v2, then v1 again) takes no new row, and the row stored last (v2) is not the version
   * that served last. Read once per such policy; it reads the policy's objects' rows by index.
   */
  async lastUsed(name: string): Promise<PolicyRef | null> {
    // The newest id, then that one decision: a join would look up every object's decision.
    const newest = await this.client.execute({
      sql: "SELECT MAX(last_decision_id) AS id FROM objects WHERE policy = ?",
      args: [name],
    });
    const id = newest.rows[0]?.id;
    const r =
      typeof id === "string"
        ? await this.client.execute({ sql: "SELECT body FROM decisions WHERE id = ?", args: [id] })
        : null;
    const body = r?.rows[0] ? String(r.rows[0].body) : null;
    const key = body === null ? null : policyKeyOf(body);
    // A decision stored whole (before compact decisions) names its version by hash.
    const hash = body === null || key !== null ? null : ((JSON.parse(body) as Decision).policy?.hash ?? null);
    const used =
      key !== null || hash !== null
        ? await this.client.execute({
            sql: `SELECT key, hash, name, version, document FROM policy_versions WHERE ${key !== null ? "key" : "hash"} = ?`,
            args: [key ?? hash],
          })
        : null;
    const ref = used?.rows[0] ? refOf(used.rows[0]) : null;
    // An object bound to another policy since its last decision: that one is not this policy's.
    return ref?.name === name ? ref : this.newest(name);
  }

  /**
   * The version of policy `name` to serve at start when its file did not load, or null: the one
   * its last load or reload served (policy_served), else, in a database no load has recorded
   * yet (one from before migration 0008), the one its objects used last (lastUsed).
   */
  async lastServed(name: string): Promise<PolicySource | null> {
    const r = await this.client.execute({
      sql: "SELECT policy, hash, version, document FROM policy_served WHERE policy = ?",
      args: [name],
    });
    const row = r.rows[0];
    if (!row) return this.lastUsed(name);
    const document = JSON.parse(String(row.document)) as PolicyDocument;
    return { name, version: versionOf(document, row), hash: String(row.hash), document };
  }

  /** The statements that record `sources` as the versions their policies serve from `at`. */
  static served(sources: readonly PolicySource[], at: number): InStatement[] {
    return sources
      .filter((s) => s.hash !== "")
      .map((s) => ({
        sql: "INSERT INTO policy_served (policy, hash, version, document, served_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (policy) DO UPDATE SET hash = excluded.hash, version = excluded.version, document = excluded.document, served_at = excluded.served_at",
        args: [s.name, s.hash, s.version, JSON.stringify(s.document), at],
      }));
  }

  /** The version of policy `name` stored last (keys grow as versions are first used), or null. */
  async newest(name: string): Promise<PolicyRef | null> {
    const r = await this.client.execute({
      sql: "SELECT key, hash, name, version, document FROM policy_versions WHERE name = ? ORDER BY key DESC LIMIT 1",
      args: [name],
    });
    return r.rows[0] ? refOf(r.rows[0]) : null;
  }

  /** The encoder for one transaction; `committed()` after it is durable. */
  encoder(): { encode: DecisionEncoder; committed: () => void } {
    const used: string[] = [];
    const encode: DecisionEncoder = (d: Decision) => {
      const known = this.byHash.get(d.policy.hash);
      if (known) return { body: encodeDecision(d, known) };
      let pending = this.pending.get(d.policy.hash);
      if (!pending) {
        const src = d.policy.hash === "" ? null : this.source(d.policy.hash);
        if (!src) return { body: encodeDecision(d, null) };
        const ref: PolicyRef = { key: this.nextKey++, ...src };
        pending = {
          ref,
          insert: {
            sql: "INSERT OR IGNORE INTO policy_versions (key, hash, name, version, document, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            args: [ref.key, ref.hash, ref.name, ref.version, JSON.stringify(ref.document), d.at],
          },
        };
        this.pending.set(d.policy.hash, pending);
      }
      used.push(d.policy.hash);
      return { body: encodeDecision(d, pending.ref), before: [pending.insert] };
    };
    const committed = () => {
      for (const hash of used) {
        const p = this.pending.get(hash);
        if (!p) continue;
        this.pending.delete(hash);
        this.remember(p.ref);
      }
    };
    return { encode, committed };
  }

  /** Rebuilds a stored decision, reading its policy version when it is not known yet. */
  async decode(row: { id: string; objectId: string; at: number; body: string }): Promise<Decision> {
    const key = policyKeyOf(row.body);
    let ref = key === null ? null : (this.byKey.get(key) ?? null);
    if (key !== null && !ref) {
      const r = await this.client.execute({
        sql: "SELECT key, hash, name, version, document FROM policy_versions WHERE key = ?",
        args: [key],
      });
      if (r.rows[0]) this.remember((ref = refOf(r.rows[0])));
    }
    return decodeDecision(row, ref);
  }

  private remember(ref: PolicyRef): void {
    this.byHash.set(ref.hash, ref);
    this.byKey.set(ref.key, ref);
  }
}

function refOf(r: Record<string, unknown>): PolicyRef {
  const document = JSON.parse(String(r.document)) as PolicyDocument;
  return { key: Number(r.key), hash: String(r.hash), name: String(r.name), version: versionOf(document, r), document };
}

/**
 * A stored version's `version`, read from its document: the column is for SQL's eyes only. A
 * version is any string JSON can write, and SQLite keeps not all of them as text (it reads one
 * only up to a NUL, and libsql writes half of a surrogate pair as U+FFFD), where the document's
 * JSON text keeps every one, escaped.
 */
function versionOf(document: PolicyDocument, row: Record<string, unknown>): string {
  return typeof document?.version === "string" ? document.version : String(row.version);
}
