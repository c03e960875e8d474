// Prometheus metrics (prom-client), one registry per server so that tests can build several.
// What happens is counted from the governor's typed events (governor/events.ts) into plain
// numbers, one per label tuple, found by one Map lookup: an arrival costs a few increments,
// and prom-client's own label handling (hashing, validation) runs only at a scrape. What is
// counted up to now (objects per state, the time spent in each, pending timers) is read at the
// scrape from the governor: its census, kept as it commits, and one count of the timers; and
// the event streams open, from their hub (sse.ts).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { BoundedMap } from "../core/bounded-map.ts";
import type { ActionRecord } from "../core/store.ts";
import type { GovernorEventMap } from "../governor/events.ts";
import type { GovernorStatsApi } from "../governor/services.ts";
import { openEventStreams } from "./sse.ts";

/**
 * Counts per label tuple (up to three labels), in nested Maps: an increment is three lookups
 * of strings the caller already holds, with nothing built or hashed anew.
 */
class Tally {
  private readonly root = new Map<string, Map<string, Map<string, { n: number }>>>();

  constructor(readonly labelNames: readonly string[]) {}

  add(a: string, b: string, c = ""): void {
    let level1 = this.root.get(a);
    if (!level1) this.root.set(a, (level1 = new Map()));
    let level2 = level1.get(b);
    if (!level2) level1.set(b, (level2 = new Map()));
    const cell = level2.get(c);
    if (cell) cell.n++;
    else level2.set(c, { n: 1 });
  }

  /** Every tuple seen, as prom-client labels, with its count. */
  *entries(): Generator<[Record<string, string>, number]> {
    const [x, y, z] = this.labelNames;
    for (const [a, level1] of this.root)
      for (const [b, level2] of level1)
        for (const [c, { n }] of level2) yield [{ [x!]: a, [y!]: b, ...(z === undefined ? {} : { [z]: c }) }, n];
  }
}

/** A counter whose values are a tally's, handed over at each scrape. */
function tallied(registry: Registry, name: string, help: string, tally: Tally): void {
  new Counter({
    name,
    help,
    labelNames: tally.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of tally.entries()) this.inc(labels, n);
    },
  });
}

/** Seconds, from well under a millisecond (an arrival on a quiet server) to seconds. */
const ARRIVAL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds: a timer on time is fired within milliseconds; one late after a restart, minutes. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 15, 60, 300];
/** Arrivals per transaction: the group committer sends at most 512. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
/** Actions in flight whose driver is remembered for the metrics at most (the oldest go first). */
const SENT_TO_MAX = 10_000;

export interface MetricsOptions {
  /** prom-client's default process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

/** The metrics of one server: what `GET /metrics` renders. */
export class Metrics {
  readonly registry = new Registry();
  private readonly stop: (() => void)[] = [];

  constructor(governor: GovernorStatsApi, options: MetricsOptions = {}) {
    const registry = this.registry;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

    const decisions = new Tally(["policy", "outcome", "trigger"]);
    const evaluations = new Tally(["policy", "trigger"]);
    const actions = new Tally(["driver", "kind", "result"]);
    tallied(registry, "vigil_decisions_total", "Decisions stored, by policy, outcome and trigger.", decisions);
    tallied(
      registry,
      "vigil_evaluations_total",
      "Evaluations, stored or only counted (quiet timer ticks), by policy and trigger; one whose commit's answer was lost " +
        "is not counted (its decision, found stored when its object is read again, is counted in vigil_decisions_total).",
      evaluations,
    );
    tallied(
      registry,
      "vigil_actions_total",
      "Actions by driver, kind and result: confirmed, retried (a failed attempt that will be tried again), failed, superseded.",
      actions,
    );
    const arrival = new Histogram({
      name: "vigil_arrival_duration_seconds",
      help: "From the start of an evaluation in its object's mailbox to its durable commit (one whose commit's answer was lost is not observed).",
      buckets: ARRIVAL_BUCKETS,
      registers: [registry],
    });
    const lag = new Histogram({
      name: "vigil_timer_lag_seconds",
      help: "How long after its due time each timer was fired (one whose evaluation failed, used up, included).",
      buckets: LAG_BUCKETS,
      registers: [registry],
    });
    const batch = new Histogram({
      name: "vigil_commit_batch_size",
      help: "Arrivals committed in one transaction by the group committer.",
      buckets: BATCH_BUCKETS,
      registers: [registry],
    });
    new Gauge({
      name: "vigil_objects",
      help: "Objects by policy and state.",
      labelNames: ["policy", "state"],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of governor.censusRows()) this.set({ policy: r.policy, state: r.state }, r.objects);
      },
    });
    new Counter({
      name: "vigil_state_seconds_total",
      help:
        "Seconds objects spent in each state since this server started, summed over the objects of a policy: " +
        "a stay under way at start counts from the start, one under way now up to now.",
      labelNames: ["policy", "state"],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of governor.censusRows()) this.inc({ policy: r.policy, state: r.state }, r.seconds);
      },
    });
    const timersPending = new Gauge({
      name: "vigil_timers_pending",
      help: "Timers pending, all objects together (no sample before a count has succeeded).",
      registers: [registry],
      async collect() {
        // A store that fails or is slow to answer leaves the last count: the scrape is answered.
        const n = await governor.pendingTimers();
        if (n !== null) this.set(n);
      },
    });
    new Gauge({
      name: "vigil_event_streams",
      help: "Event streams (GET /v1/events) open, a dropped one until its connection ends: what VIGIL_MAX_STREAMS bounds.",
      registers: [registry],
      collect() {
        this.set(openEventStreams(governor));
      },
    });
    // No sample until a count has succeeded: prom-client's initial 0 would say that none is pending.
    timersPending.remove();

    // The driver each action in flight was sent to: by the time it answers, its object may be
    // out of memory (dormant, past VIGIL_HOT_OBJECTS) or bound to another driver. Bounded: an
    // action whose object was deleted never answers here.
    const sentTo = new BoundedMap<string, string>(SENT_TO_MAX);
    this.on(governor, "action:dispatched", (a, name) => sentTo.set(a.id, name));
    const driver = (a: ActionRecord, final = true) => {
      const name = sentTo.get(a.id) ?? governor.driverOf(a.objectId) ?? "unknown";
      if (final) sentTo.delete(a.id);
      return name;
    };
    this.on(governor, "decision:recorded", (d) => decisions.add(d.policy.name, d.outcome, d.trigger.kind));
    this.on(governor, "evaluation:completed", (d, _stored, ms) => {
      evaluations.add(d.policy.name, d.trigger.kind);
      arrival.observe(ms / 1000);
    });
    this.on(governor, "action:confirmed", (a) => actions.add(driver(a), a.kind, "confirmed"));
    this.on(governor, "action:retrying", (a) => actions.add(driver(a, false), a.kind, "retried"));
    this.on(governor, "action:failed", (a) => actions.add(driver(a), a.kind, "failed"));
    this.on(governor, "action:superseded", (a, from) => {
      const name = driver(a);
      actions.add(from ?? name, a.kind, "superseded");
    });
    this.on(governor, "timer:fired", (_id, _name, _late, lagMs) => lag.observe(lagMs / 1000));
    this.on(governor, "timer:failed", (_id, _name, _late, lagMs) => lag.observe(lagMs / 1000));
    this.on(governor, "commit:completed", (n) => batch.observe(n));
  }

  /** The media type of {@link render}'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops counting (the governor's events are left alone). */
  close(): void {
    for (const off of this.stop.splice(0)) off();
  }

  private on<K extends keyof GovernorEventMap>(
    governor: GovernorStatsApi,
    event: K,
    listener: (...args: GovernorEventMap[K]) => void,
  ): void {
    governor.events.on(event, listener as never);
    this.stop.push(() => governor.events.off(event, listener as never));
  }
}
