// The outbox dispatcher: sends committed actions to their driver, one at a time per object
// and in order, retrying with jittered exponential backoff. It only ever reads actions that
// are already durable, so a crash between commit and dispatch loses nothing: at start the
// pending rows are dispatched again.

import { backoffMs } from "../core/backoff.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { ActionRecord } from "../core/store.ts";
import type { Observation } from "../core/types.ts";
import { DriverError } from "../substrate/driver.ts";

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 250, maxMs: 30_000 };

/** The longest a driver's Retry-After (DriverError.retryAfterMs) puts a retry off: a far date is not obeyed for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Objects whose actions are worked on at once, at most (a claim, a driver call, its record);
 * the others wait their turn, in the order they came. A restart that finds many actions pending
 * (a mass wake cut short) would otherwise start them all at once: 300,000 took 4 GB and the
 * lease, before the server listened.
 */
export const DISPATCH_LANES = 1_000;

export interface DispatchHooks {
  /**
   * Sends the action to its driver; resolves with the driver's observation. `detached()`: whether
   * its object was forgotten or rebound since its claim (then it must not be sent).
   */
  send(action: ActionRecord, detached: () => boolean): Promise<Observation>;
  /**
   * Records a confirmation (in the object's mailbox). `detached()`, asked there: whether its
   * object was forgotten or rebound since it was sent, so that its result is no longer the
   * object's (a rebind queued in the mailbox before it detaches it too).
   */
  confirmed(action: ActionRecord, observation: Observation, detached: () => boolean): Promise<void>;
  /**
   * Records a retry or a final failure (in the object's mailbox); `detached` as above. A retry
   * that is recorded calls `requeue` in that same mailbox task, so that the next task there (an
   * observation, an evaluation) finds the action queued and can supersede it. One the hook closes
   * instead (it no longer fits its object's state) is not requeued.
   */
  failed(
    action: ActionRecord,
    error: string,
    final: boolean,
    detached: () => boolean,
    requeue: () => void,
  ): Promise<void>;
  /** Runs a task in the object's mailbox. */
  exclusive<T>(objectId: string, task: () => Promise<T>): Promise<T>;
  onError(error: Error, context: string): void;
}

/** A driver's answer to an action that could not be recorded yet (see Dispatcher.recordLater). */
type Answer = { observation: Observation } | { error: string };

interface Lane {
  queue: ActionRecord[];
  /**
   * By action id, answers still to be recorded: such an action waits in the queue (at its head)
   * to be recorded again, not sent again.
   */
  unrecorded: Map<string, { action: ActionRecord; answer: Answer; tries: number }>;
  running: boolean;
  /** Set while the head of the queue waits out its backoff. */
  wait: TimerHandle | null;
  /** The action claimed for sending, while it is. */
  current: string | null;
  /**
   * The action in flight when its object was forgotten (deleted) or rebound: it reports,
   * detached, and is not tried again.
   */
  forgotten: string | null;
}

export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly active = new Set<Promise<void>>();
  /** Lanes waiting on a driver call. */
  private sending = 0;
  private closed = false;
  /** Queues but sends nothing (see `hold`). */
  private held = false;
  /** Objects with actions to work on, waiting for one of the `maxLanes` (in the order they came). */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly hooks: DispatchHooks,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly random: () => number = Math.random,
    private readonly maxLanes = DISPATCH_LANES,
  ) {}

  /** Queues durable actions; call inside the object's mailbox, after their commit. */
  enqueue(actions: ActionRecord[]): void {
    for (const a of actions) {
      const lane = this.lane(a.objectId);
      lane.queue.push({ ...a });
      this.pump(a.objectId, lane);
    }
  }

  /** Ids of the object's actions not yet handed to the driver (they can be superseded). */
  queued(objectId: string): string[] {
    return this.queuedActions(objectId).map((a) => a.id);
  }

  /** The object's actions not yet handed to the driver, as queued (a copy of the list). */
  queuedActions(objectId: string): ActionRecord[] {
    return this.lanes.get(objectId)?.queue.slice() ?? [];
  }

  /** Drops queued actions that a newer decision replaced. Call inside the mailbox. */
  supersede(objectId: string, ids: string[]): void {
    const lane = this.lanes.get(objectId);
    if (!lane || ids.length === 0) return;
    const head = lane.queue[0];
    lane.queue = lane.queue.filter((a) => !ids.includes(a.id));
    for (const id of ids) lane.unrecorded.delete(id);
    if (lane.wait && head && ids.includes(head.id)) {
      // The action in backoff is gone: the next one need not wait for its timer.
      this.clock.clearTimeout(lane.wait);
      lane.wait = null;
      this.pump(objectId, lane);
    }
  }

  /**
   * The object was bound to other compute: the action in flight, sent to the old binding, is
   * detached (its answer moves nothing), and those queued, decided for the old binding, are
   * dropped. Returns those dropped, for the caller to record as superseded, the id of the one in
   * flight (its row is recorded superseded with them, so that a restart before it answers does
   * not send it to the new binding; its event comes when it answers), and `undo`, for a rebind
   * that failed before it was recorded: the action in flight is the object's again, and those
   * dropped are queued again (with the answers that waited to be recorded). Call both inside the
   * mailbox.
   */
  detach(objectId: string): { dropped: ActionRecord[]; inFlight: string | null; undo: () => void } {
    const lane = this.lanes.get(objectId);
    if (!lane) return { dropped: [], inFlight: null, undo: () => {} };
    const dropped = lane.queue.slice();
    const answers = [...lane.unrecorded];
    const inFlight = lane.current;
    this.forget(objectId);
    const undo = () => {
      if (inFlight !== null && lane.forgotten === inFlight) lane.forgotten = null;
      // An answer that waited to be recorded is recorded at its turn, not sent again.
      if (answers.length > 0) {
        const again = this.lane(objectId);
        for (const [id, waiting] of answers) again.unrecorded.set(id, waiting);
      }
      this.enqueue(dropped);
    };
    return { dropped, inFlight, undo };
  }

  /**
   * The object's actions are `pending` (read from the store after a write whose answer was lost,
   * which may have queued, superseded or recorded some): what is queued and no longer pending is
   * dropped, what is pending and neither queued nor in flight is queued, and the one in flight,
   * if no longer pending (a rebind superseded it), is detached: its answer moves nothing. Call
   * in the mailbox. Returns the action in flight, if one is.
   */
  resync(objectId: string, pending: ActionRecord[]): string | null {
    const lane = this.lanes.get(objectId);
    const ids = new Set(pending.map((a) => a.id));
    if (lane?.current && !ids.has(lane.current)) lane.forgotten = lane.current;
    const known = new Set(lane?.queue.map((a) => a.id));
    if (lane?.current) known.add(lane.current);
    const gone = lane?.queue.filter((a) => !ids.has(a.id)).map((a) => a.id) ?? [];
    this.supersede(objectId, gone);
    this.enqueue(pending.filter((a) => !known.has(a.id)));
    return lane?.current ?? null;
  }

  forget(objectId: string): void {
    const lane = this.lanes.get(objectId);
    if (!lane) return;
    lane.queue = [];
    lane.unrecorded.clear();
    lane.forgotten = lane.current;
    if (lane.wait) this.clock.clearTimeout(lane.wait);
    lane.wait = null;
    // A lane that is sending removes itself when the send is done.
    if (!lane.running) this.lanes.delete(objectId);
  }

  /** Lanes doing something other than waiting for a driver or a backoff. */
  get working(): number {
    return this.active.size - this.sending;
  }

  /** Actions waiting for the driver or a retry, for readiness and tests. */
  get backlog(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.queue.length + (l.running ? 1 : 0);
    return n;
  }

  /**
   * Queues without sending until `release`: a server's start queues the pending actions it
   * reads from the store before the drivers re-adopt their compute, so that an evaluation the
   * adoption brings sees them (and can supersede them) and nothing reaches a driver that does
   * not yet know its compute.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const [objectId, lane] of this.lanes) this.pump(objectId, lane);
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    for (const lane of this.lanes.values()) {
      if (lane.wait) this.clock.clearTimeout(lane.wait);
      lane.wait = null;
    }
  }

  private lane(objectId: string): Lane {
    let lane = this.lanes.get(objectId);
    if (!lane)
      this.lanes.set(
        objectId,
        (lane = { queue: [], unrecorded: new Map(), running: false, wait: null, current: null, forgotten: null }),
      );
    return lane;
  }

  private pump(objectId: string, lane: Lane): void {
    if (lane.running || lane.wait || this.closed || this.held) return;
    if (this.active.size >= this.maxLanes) {
      this.waiting.add(objectId);
      return;
    }
    this.waiting.delete(objectId);
    lane.running = true;
    const run = this.run(objectId, lane).finally(() => {
      lane.running = false;
      this.active.delete(run);
      if (lane.queue.length === 0 && !lane.wait) {
        if (this.lanes.get(objectId) === lane) this.lanes.delete(objectId);
      } else this.pump(objectId, lane);
      this.startWaiting();
    });
    this.active.add(run);
  }

  /** Starts the objects that waited for a lane, while there are lanes free. */
  private startWaiting(): void {
    for (const objectId of this.waiting) {
      if (this.active.size >= this.maxLanes) return;
      this.waiting.delete(objectId);
      const lane = this.lanes.get(objectId);
      if (lane) this.pump(objectId, lane);
    }
  }

  private async run(objectId: string, lane: Lane): Promise<void> {
    while (!this.closed) {
      const head = lane.queue[0];
      if (!head) return;
      const delay = head.nextAttemptAt - this.clock.now();
      if (delay > 0) {
        // Wait out the backoff on the clock, outside `active`, so idle() does not wait for it.
        lane.wait = this.clock.setTimeout(() => {
          lane.wait = null;
          this.pump(objectId, lane);
        }, delay);
        return;
      }
      // Claim in the mailbox: an evaluation in progress may still supersede it.
      const claimed = await this.hooks.exclusive(objectId, async () => {
        // Closed while the claim waited in the mailbox (the lease lost): nothing more is sent.
        if (this.closed || lane.queue[0] !== head) return null;
        lane.queue.shift();
        return head;
      });
      if (!claimed) continue;
      lane.current = claimed.id;
      try {
        await this.attempt(claimed, lane);
      } finally {
        lane.current = null;
        if (lane.forgotten === claimed.id) lane.forgotten = null;
      }
    }
  }

  private async attempt(action: ActionRecord, lane: Lane): Promise<void> {
    const unrecorded = lane.unrecorded.get(action.id);
    if (unrecorded) {
      lane.unrecorded.delete(action.id);
      return this.record(unrecorded.action, unrecorded.answer, lane, unrecorded.tries);
    }
    const tried = { ...action, attempts: action.attempts + 1 };
    let observation: Observation;
    this.sending++;
    try {
      observation = await this.hooks.send(tried, () => lane.forgotten === action.id);
    } catch (e) {
      this.sending--;
      // Closing: the failure may be the shutdown's own (a driver closed under a stop). The row
      // stays pending as it was, for the next server to send; no attempt is counted.
      if (this.closed) return;
      const message = e instanceof Error ? e.message : String(e);
      const retryable = !(e instanceof DriverError) || e.retryable;
      const final = !retryable || tried.attempts >= this.retry.maxAttempts;
      // The substrate's Retry-After, when longer than the backoff (a 429 asking for minutes).
      const asked = e instanceof DriverError ? Math.min(e.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) : 0;
      const wait = Math.max(backoffMs(tried.attempts, this.retry, this.random), asked);
      const next = final ? tried : { ...tried, nextAttemptAt: this.clock.now() + wait };
      const detached = () => lane.forgotten === action.id;
      // A retry of an action whose object was forgotten meanwhile (deleted) would go to
      // whatever has its id now; one whose object was rebound, to the other binding.
      let requeued = false;
      const requeue = () => {
        if (final || requeued || detached()) return;
        requeued = true;
        lane.queue.unshift(next);
      };
      if (final) return this.record(next, { error: message }, lane, 0);
      const recorded = await this.report(() => this.hooks.failed(next, message, final, detached, requeue));
      // A failure that could not even be recorded is tried again all the same (its row is pending).
      if (!recorded) requeue();
      return;
    }
    this.sending--;
    return this.record(tried, { observation }, lane, 0);
  }

  /** Records a confirmation or a final failure; one that cannot be recorded now is recorded later. */
  private async record(action: ActionRecord, answer: Answer, lane: Lane, tries: number): Promise<void> {
    const detached = () => lane.forgotten === action.id;
    const recorded = await this.report(() =>
      "observation" in answer
        ? this.hooks.confirmed(action, answer.observation, detached)
        : this.hooks.failed(action, answer.error, true, detached, () => {}),
    );
    if (!recorded) this.recordLater(action, answer, lane, tries + 1);
  }

  /**
   * An answer the database refused to record leaves the action's row pending and its object
   * waiting for it (waking, say): it is recorded again after a backoff, until it is, and the
   * object's next actions wait behind it, so that answers are recorded in the order they came
   * (a start recorded confirmed after the stop behind it would leave the object active).
   */
  private recordLater(action: ActionRecord, answer: Answer, lane: Lane, tries: number): void {
    if (lane.forgotten === action.id || this.closed) return;
    lane.unrecorded.set(action.id, { action, answer, tries });
    const backoff = backoffMs(Math.min(tries, this.retry.maxAttempts), this.retry, this.random);
    lane.queue.unshift({ ...action, nextAttemptAt: this.clock.now() + backoff });
  }

  /** Runs a hook; false (reported) when it threw. */
  private async report(fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      this.hooks.onError(e as Error, "recording an action result");
      return false;
    }
  }
}
