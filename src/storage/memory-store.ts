// The store in plain maps: what the fixture runner and dry runs use, and the reference the
// store contract suite holds the libsql store to. Not durable by design.
// The file is past 400 lines because it is the whole Store interface in one place, each method
// beside the others it must agree with (a commit, and the reads of what it wrote), as the
// reference the libsql store is held to.

import type { JournalEntry } from "../core/journal.ts";
import { applyTimerOps } from "../core/timers.ts";
import type {
  ActionRecord,
  ActionUpdate,
  CommitBatch,
  DecisionReads,
  DueTimer,
  IdempotencyRecord,
  LeaseHolder,
  ObjectCount,
  ObjectQuery,
  Store,
} from "../core/store.ts";
import type { Decision, ObjectRecord } from "../core/types.ts";
import { actionIdAt, decisionIdAt } from "../core/id-times.ts";

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  /**
   * With `history: false` the store keeps no journal entries, no decisions and no action once it
   * is done: a replay's sandbox, which reads its decisions from the governor's events, so that a
   * long history costs time, not memory.
   */
  constructor(private readonly options: { history?: boolean } = {}) {}

  private get keepsHistory(): boolean {
    return this.options.history !== false;
  }

  private objects = new Map<string, ObjectRecord>();
  private journals = new Map<string, JournalEntry[]>();
  private decisions = new Map<string, Decision>();
  private actions = new Map<string, ActionRecord>();
  private idempotency = new Map<string, IdempotencyRecord & { createdAt: number }>();
  /** Decisions stored per object (what pruning by count looks at; deletes lower it). */
  private decisionCounts = new Map<string, number>();
  private schedules = new Map<string, string>();
  /** The schedule each cron tick was armed for (timers.spec), by object and name. */
  private timerSpecs = new Map<string, string>();
  /** When each timer put off while its policy was not loaded was first due (timers.first_due). */
  private timerFirstDues = new Map<string, number>();
  private holder: LeaseHolder | null = null;
  private retentionRan: number | null = null;

  readonly history: DecisionReads = {
    since: async (after, limit, objectId) =>
      [...this.decisions.values()]
        .filter((d) => d.id > after && (objectId === undefined || d.objectId === objectId))
        .sort((a, b) => cmp(a.id, b.id))
        .slice(0, limit)
        .map((d) => this.withActionStatus(d)),
    decisionOf: async (actionId) => this.actions.get(actionId)?.decisionId ?? null,
    stateChanges: async (objectId, q) =>
      [...this.decisions.values()]
        .filter((d) => d.objectId === objectId)
        .filter((d) => (q.after === undefined || d.id > q.after) && (q.before === undefined || d.id < q.before))
        .sort((a, b) => (q.order === "desc" ? cmp(b.id, a.id) : cmp(a.id, b.id)))
        .slice(0, q.limit)
        .map((d) => {
          const confirmed = d.actions.flatMap((a) => {
            const row = this.actions.get(a.id);
            return row?.status === "confirmed" ? [row.updatedAt] : [];
          });
          const confirmedAt = confirmed.length > 0 ? Math.max(...confirmed) : null;
          return { id: d.id, at: d.at, fromState: d.fromState, toState: d.toState, confirmedAt };
        }),
  };

  async migrate(claim?: () => Promise<void>): Promise<void> {
    await claim?.();
  }

  async getObject(id: string): Promise<ObjectRecord | null> {
    const o = this.objects.get(id);
    return o ? copy(o) : null;
  }

  async getObjects(ids: readonly string[]): Promise<ObjectRecord[]> {
    return [...new Set(ids)].flatMap((id) => {
      const o = this.objects.get(id);
      return o ? [copy(o)] : [];
    });
  }

  async commit(batches: CommitBatch[]): Promise<void> {
    // Check everything first so that a failing batch writes nothing, like a transaction; keys
    // repeated within this commit conflict as they would in the database.
    const seen = new Set<string>();
    const claim = (key: string, what: string) => {
      if (seen.has(key)) throw new Error(`${what} exists`);
      seen.add(key);
    };
    for (const b of batches) {
      const id = b.object.id;
      if (b.journal && this.hasJournalEntry(id, b.journal.seq))
        throw new Error(`journal entry ${id}#${b.journal.seq} exists`);
      if (b.journal) claim(`journal\u0000${id}\u0000${b.journal.seq}`, `journal entry ${id}#${b.journal.seq}`);
      if (b.decision && this.decisions.has(b.decision.id)) throw new Error(`decision ${b.decision.id} exists`);
      if (b.decision) claim(`decision\u0000${b.decision.id}`, `decision ${b.decision.id}`);
      if (b.idempotency && this.idempotency.has(`${id}\u0000${b.idempotency.key}`))
        throw new Error(`idempotency key ${b.idempotency.key} exists`);
      if (b.idempotency)
        claim(`idempotency\u0000${id}\u0000${b.idempotency.key}`, `idempotency key ${b.idempotency.key}`);
      for (const a of b.actions) {
        if (this.actions.has(a.id)) throw new Error(`action ${a.id} exists`);
        claim(`action\u0000${a.id}`, `action ${a.id}`);
      }
    }
    for (const b of batches) {
      const o = copy(b.object);
      const previous = this.objects.get(o.id);
      o.timers = applyTimerOps(previous?.timers ?? [], b.timerOps);
      for (const op of b.timerOps) {
        const key = `${o.id}\u0000${op.name}`;
        if (op.op === "set" && op.spec !== undefined) this.timerSpecs.set(key, op.spec);
        else this.timerSpecs.delete(key);
        if (op.op === "set" && op.firstDue !== undefined) this.timerFirstDues.set(key, op.firstDue);
        else this.timerFirstDues.delete(key);
      }
      this.objects.set(o.id, o);
      if (b.journal && this.keepsHistory) {
        const list = this.journals.get(o.id) ?? [];
        list.push({ kind: "patch", ...copy(b.journal) });
        this.journals.set(o.id, list);
      }
      if (b.decision && this.keepsHistory) {
        this.decisions.set(b.decision.id, copy(b.decision));
        this.decisionCounts.set(o.id, (this.decisionCounts.get(o.id) ?? 0) + 1);
      }
      for (const id of b.supersede) {
        const a = this.actions.get(id);
        if (a && a.status === "pending") this.actions.set(id, { ...a, status: "superseded", updatedAt: o.updatedAt });
      }
      for (const a of b.actions) this.actions.set(a.id, copy(a));
      if (b.idempotency)
        this.idempotency.set(`${o.id}\u0000${b.idempotency.key}`, { ...b.idempotency, createdAt: o.updatedAt });
    }
  }

  async deleteObject(id: string): Promise<boolean> {
    if (!this.objects.delete(id)) return false;
    this.journals.delete(id);
    for (const [k, d] of this.decisions) if (d.objectId === id) this.decisions.delete(k);
    for (const [k, a] of this.actions) if (a.objectId === id) this.actions.delete(k);
    for (const k of this.idempotency.keys()) if (k.startsWith(`${id}\u0000`)) this.idempotency.delete(k);
    this.decisionCounts.delete(id);
    for (const m of [this.timerSpecs, this.timerFirstDues])
      for (const k of m.keys()) if (k.startsWith(`${id}\u0000`)) m.delete(k);
    return true;
  }

  async timerSpec(objectId: string, name: string): Promise<string | null> {
    return this.timerSpecs.get(`${objectId}\u0000${name}`) ?? null;
  }

  /** Nothing to finish: a deletion here is one step. */
  async finishDeletions(): Promise<void> {}

  async listObjects(q: ObjectQuery): Promise<ObjectRecord[]> {
    return [...this.objects.values()]
      .filter((o) => (!q.state || o.state === q.state) && (!q.policy || o.policy === q.policy))
      .filter((o) => !q.driver || o.substrate.driver === q.driver)
      .filter((o) => !q.failedWithLeftovers || (o.state === "failed" && o.substrate.observed?.leftovers !== undefined))
      .filter((o) => q.after === undefined || o.id > q.after)
      .sort((a, b) => cmp(a.id, b.id))
      .slice(0, q.limit)
      .map(copy);
  }

  async listDecisions(objectId: string, limit: number, before?: string): Promise<Decision[]> {
    return [...this.decisions.values()]
      .filter((d) => d.objectId === objectId && (before === undefined || d.id < before))
      .sort((a, b) => cmp(b.id, a.id))
      .slice(0, limit)
      .map((d) => this.withActionStatus(d));
  }

  async decisionsAfter(objectId: string, limit: number, after?: string): Promise<Decision[]> {
    return [...this.decisions.values()]
      .filter((d) => d.objectId === objectId && (after === undefined || d.id > after))
      .sort((a, b) => cmp(a.id, b.id))
      .slice(0, limit)
      .map((d) => this.withActionStatus(d));
  }

  async getDecision(id: string): Promise<Decision | null> {
    const d = this.decisions.get(id);
    return d ? this.withActionStatus(d) : null;
  }

  private withActionStatus(d: Decision): Decision {
    return copy({
      ...d,
      actions: d.actions.map((a) => ({ ...a, status: this.actions.get(a.id)?.status ?? a.status })),
    });
  }

  async getIdempotent(objectId: string, key: string): Promise<IdempotencyRecord | null> {
    const r = this.idempotency.get(`${objectId}\u0000${key}`);
    return r === undefined ? null : { key: r.key, fingerprint: r.fingerprint, decisionId: r.decisionId };
  }

  /**
   * Whether the object's journal holds entry `seq`. The governor numbers entries upward, so a
   * new one is above the newest and the check costs nothing; only a repeat walks the journal.
   */
  private hasJournalEntry(objectId: string, seq: number): boolean {
    const list = this.journals.get(objectId);
    if (list === undefined || list.length === 0 || seq > list.at(-1)!.seq) return false;
    return list.some((j) => j.seq === seq);
  }

  async journal(objectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    return (this.journals.get(objectId) ?? [])
      .filter((j) => j.seq > afterSeq)
      .slice(0, limit)
      .map(copy);
  }

  async compactableJournal(
    before: number,
    after: string | null,
    scan: number,
  ): Promise<{ targets: { objectId: string; seq: number }[]; next: string | null }> {
    const ids = [...this.objects.keys()]
      .filter((id) => after === null || cmp(id, after) > 0)
      .sort(cmp)
      .slice(0, scan);
    const targets: { objectId: string; seq: number }[] = [];
    for (const objectId of ids) {
      const old = (this.journals.get(objectId) ?? []).filter((j) => j.at < before && (j.kind ?? "patch") === "patch");
      if (old.length > 0) targets.push({ objectId, seq: old.reduce((m, j) => (j.seq > m ? j.seq : m), 0) });
    }
    return { targets, next: ids.length < scan || ids.length === 0 ? null : ids[ids.length - 1]! };
  }

  async compactJournal(objectId: string, seq: number, snapshot: JournalEntry): Promise<void> {
    const list = (this.journals.get(objectId) ?? []).filter((j) => j.seq > seq);
    this.journals.set(objectId, [{ ...copy(snapshot), seq, kind: "snapshot" }, ...list]);
  }

  async pendingActions(objectId?: string): Promise<ActionRecord[]> {
    return [...this.actions.values()]
      .filter((a) => a.status === "pending" && (objectId === undefined || a.objectId === objectId))
      .sort((a, b) => cmp(a.id, b.id))
      .map(copy);
  }

  /** As the SQL store does it: an unknown action changes nothing, but the object and decision still go in. */
  async updateAction(u: ActionUpdate): Promise<void> {
    const a = this.actions.get(u.id);
    const { object, decision, ...rest } = u;
    if (a && !this.keepsHistory && rest.status !== "pending") this.actions.delete(u.id);
    else if (a) this.actions.set(u.id, { ...a, ...rest });
    if (decision && this.keepsHistory) {
      this.decisions.set(decision.id, copy(decision));
      // Counted on the object's row, as its UPDATE in the SQL store counts it.
      if (object && this.objects.has(object.id))
        this.decisionCounts.set(decision.objectId, (this.decisionCounts.get(decision.objectId) ?? 0) + 1);
    }
    if (object && this.objects.has(object.id)) {
      const timers = this.objects.get(object.id)!.timers;
      this.objects.set(object.id, { ...copy(object), timers });
    }
  }

  async dueTimers(until: number, limit: number): Promise<DueTimer[]> {
    const out: DueTimer[] = [];
    for (const o of this.objects.values())
      for (const t of o.timers) {
        if (t.dueAt > until) continue;
        const firstDue = this.timerFirstDues.get(`${o.id}\u0000${t.name}`);
        out.push({ objectId: o.id, ...t, ...(firstDue === undefined ? {} : { firstDue }) });
      }
    return out.sort((a, b) => a.dueAt - b.dueAt || cmp(a.objectId, b.objectId) || cmp(a.name, b.name)).slice(0, limit);
  }

  async countObjects(): Promise<ObjectCount[]> {
    const counts = new Map<string, ObjectCount>();
    for (const o of this.objects.values()) {
      const key = `${o.policy}\u0000${o.state}`;
      const c = counts.get(key) ?? { policy: o.policy, state: o.state, objects: 0 };
      c.objects++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }

  async countTimers(): Promise<number> {
    let n = 0;
    for (const o of this.objects.values()) n += o.timers.length;
    return n;
  }

  async newestIds(): Promise<string[]> {
    const newest = (ids: Iterable<string>) =>
      [...ids].reduce<string | null>((m, id) => (m === null || id > m ? id : m), null);
    return [newest(this.decisions.keys()), newest(this.actions.keys())].filter((id) => id !== null);
  }

  async nextTimer(): Promise<DueTimer | null> {
    return (await this.dueTimers(Number.MAX_SAFE_INTEGER, 1))[0] ?? null;
  }

  async oldDecisions(before: number, limit: number, after = ""): Promise<{ id: string; objectId: string }[]> {
    const cutoff = decisionIdAt(before);
    return [...this.decisions.values()]
      .filter((d) => d.at < before && d.id < cutoff && d.id > after)
      .sort((a, b) => cmp(a.id, b.id))
      .slice(0, limit)
      .map((d) => ({ id: d.id, objectId: d.objectId }));
  }

  async deleteDecisions(ids: readonly string[]): Promise<number> {
    for (const id of ids) {
      const d = this.decisions.get(id);
      if (!d) continue;
      this.decisions.delete(id);
      const count = this.decisionCounts.get(d.objectId);
      if (count !== undefined) this.decisionCounts.set(d.objectId, Math.max(0, count - 1));
    }
    // With their actions that are done (a pending one is still to be sent).
    const gone = new Set(ids);
    for (const [k, a] of this.actions) if (gone.has(a.decisionId) && a.status !== "pending") this.actions.delete(k);
    return ids.length;
  }

  async objectsOverDecisionLimit(
    keep: number,
    after: string | null,
    scan: number,
  ): Promise<{ over: string[]; next: string | null }> {
    const ids = [...this.objects.keys()]
      .filter((id) => after === null || cmp(id, after) > 0)
      .sort(cmp)
      .slice(0, scan);
    return {
      over: ids.filter((id) => (this.decisionCounts.get(id) ?? 0) > keep),
      next: ids.length < scan ? null : ids[ids.length - 1]!,
    };
  }

  async decisionBeyond(objectId: string, keep: number): Promise<string | null> {
    return this.newestFirst(objectId)[keep]?.id ?? null;
  }

  async pruneObjectDecisions(objectId: string, keep: number): Promise<number> {
    const old = this.newestFirst(objectId).slice(keep);
    await this.deleteDecisions(old.map((d) => d.id));
    this.decisionCounts.set(objectId, this.newestFirst(objectId).length);
    return old.length;
  }

  private newestFirst(objectId: string): Decision[] {
    return [...this.decisions.values()].filter((d) => d.objectId === objectId).sort((a, b) => cmp(b.id, a.id));
  }

  async pruneActions(
    before: number,
    after: string | null,
    scan: number,
  ): Promise<{ deleted: number; next: string | null }> {
    const cutoff = actionIdAt(before);
    const page = [...this.actions.values()]
      .filter((a) => a.id > (after ?? "") && a.id < cutoff)
      .sort((a, b) => cmp(a.id, b.id))
      .slice(0, scan);
    const gone = page.filter(
      (a) => a.createdAt < before && a.status !== "pending" && !this.decisions.has(a.decisionId),
    );
    for (const a of gone) this.actions.delete(a.id);
    return { deleted: gone.length, next: page.length < scan ? null : page[page.length - 1]!.id };
  }

  async retentionRanAt(): Promise<number | null> {
    return this.retentionRan;
  }

  async markRetentionRun(at: number): Promise<void> {
    this.retentionRan = at;
  }

  async pruneIdempotency(before: number, limit: number): Promise<number> {
    const old = [...this.idempotency].filter(([, r]) => r.createdAt < before).slice(0, limit);
    for (const [k] of old) this.idempotency.delete(k);
    return old.length;
  }

  async armedSchedules(policy: string): Promise<string | null> {
    return this.schedules.get(policy) ?? null;
  }

  async setArmedSchedules(policy: string, schedules: string): Promise<void> {
    this.schedules.set(policy, schedules);
  }

  async probeWrite(): Promise<void> {}

  async lease(): Promise<LeaseHolder | null> {
    return this.holder ? { ...this.holder } : null;
  }

  async claimLease(claim: LeaseHolder, now: number, replacing?: string): Promise<LeaseHolder | null> {
    const h = this.holder;
    if (h?.owner === claim.owner)
      // A renewal answered late, after a later one, does not move the expiry back.
      this.holder = {
        ...claim,
        acquiredAt: h.acquiredAt,
        renewedAt: Math.max(h.renewedAt, claim.renewedAt),
        expiresAt: Math.max(h.expiresAt, claim.expiresAt),
      };
    else if (!h || h.expiresAt < now || h.owner === replacing) this.holder = { ...claim };
    return this.lease();
  }

  async releaseLease(owner: string): Promise<void> {
    if (this.holder?.owner === owner) this.holder = null;
  }

  async close(): Promise<void> {}
}

/** Code-unit order, the order SQLite's BINARY collation gives text. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
