// GET /metrics through the app: every metric named in the design is there, the text follows
// the Prometheus exposition format, and the figures are exact on a virtual clock: decisions,
// evaluations, actions by result, objects and the seconds they spent per state, timers, commits.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { createApp } from "../../src/http/app.ts";
import type { TokenConfig } from "../../src/http/auth.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { makeServices, RULES_DIR, START, type TestServices } from "../helpers/services.ts";
import { TOKEN_CONFIG, TOKENS } from "./harness.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;

/**
 * The Prometheus text format (0.0.4), strictly: every line a HELP, a TYPE or a sample of a
 * family declared just before; labels quoted and escaped; values numbers. Throws otherwise.
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: string | null = null;
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    let m = HELP.exec(line);
    if (m) {
      families.set(m[1]!, { type: "untyped", help: m[2]!, samples: [] });
      current = m[1]!;
      continue;
    }
    m = TYPE.exec(line);
    if (m) {
      if (m[1] !== current) throw new Error(`TYPE of ${m[1]} without its HELP: ${line}`);
      families.get(current)!.type = m[2]!;
      continue;
    }
    m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${JSON.stringify(line)}`);
    const name = m[1]!;
    const family = current === null ? undefined : families.get(current);
    const suffixes = family?.type === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    if (!family || !suffixes.some((s) => name === current + s)) throw new Error(`${name} outside its family`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== "") {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) throw new Error(`bad labels: ${m[2]}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      }
    }
    // Go's ParseFloat, which Prometheus reads values with: NaN and Inf in any case.
    const text = m[3]!;
    const value = /^nan$/i.test(text)
      ? NaN
      : /^[+-]?inf$/i.test(text)
        ? Number(text.replace(/inf/i, "Infinity"))
        : Number(text);
    if (Number.isNaN(value) && !/^nan$/i.test(text)) throw new Error(`bad value: ${line}`);
    family.samples.push({ name, labels, value });
  }
  for (const [name, f] of families) if (f.type === "histogram") checkHistogram(name, f);
  return families;
}

/** Per label set: buckets are cumulative, end at +Inf, and +Inf is the count. */
function checkHistogram(name: string, f: Family): void {
  const key = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== "le")
        .sort(),
    );
  const series = new Map<string, Sample[]>();
  for (const b of f.samples.filter((s) => s.name === `${name}_bucket`))
    series.set(key(b.labels), [...(series.get(key(b.labels)) ?? []), b]);
  for (const [labels, buckets] of series) {
    const les = buckets.map((b) => Number(b.labels.le === "+Inf" ? Infinity : b.labels.le));
    expect(les).toEqual([...les].sort((a, b) => a - b));
    expect(les.at(-1)).toBe(Infinity);
    const counts = buckets.map((b) => b.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const count = f.samples.find((s) => s.name === `${name}_count` && key(s.labels) === labels);
    expect(counts.at(-1)).toBe(count?.value);
  }
}

const DESIGNED = [
  ["vigil_decisions_total", "counter"],
  ["vigil_evaluations_total", "counter"],
  ["vigil_arrival_duration_seconds", "histogram"],
  ["vigil_objects", "gauge"],
  ["vigil_actions_total", "counter"],
  ["vigil_timer_lag_seconds", "histogram"],
  ["vigil_timers_pending", "gauge"],
  ["vigil_commit_batch_size", "histogram"],
  ["vigil_event_streams", "gauge"],
  ["vigil_state_seconds_total", "counter"],
] as const;

interface Setup {
  services: TestServices;
  metrics: Metrics;
  scrape(token?: string): Promise<{ status: number; contentType: string | null; text: string }>;
  families(): Promise<Map<string, Family>>;
  /** The value of one sample (0 when absent, as Prometheus reads a counter never incremented). */
  value(name: string, labels?: Record<string, string>): Promise<number>;
}

const open: TestServices[] = [];
const metricsOpen: Metrics[] = [];
afterEach(async () => {
  for (const m of metricsOpen.splice(0)) m.close();
  for (const s of open.splice(0)) await s.close();
});

async function setup(
  opts: { tokens?: TokenConfig[]; isPublic?: boolean; services?: TestServices } = {},
): Promise<Setup> {
  const services = opts.services ?? (await makeServices({ tokens: opts.tokens ?? [] }));
  if (!opts.services) open.push(services);
  const metrics = new Metrics(services.governor, { processMetrics: true });
  metricsOpen.push(metrics);
  const app = createApp({
    governor: services.governor,
    policies: services.policies,
    whatIf: services.whatIf,
    tokens: services.tokens,
    metrics,
    metricsPublic: opts.isPublic ?? false,
  });
  const scrape = async (token?: string) => {
    const res = await app.request("/metrics", token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
  };
  const families = async () => parseExposition((await scrape(TOKENS.read)).text);
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const family = [...(await families()).entries()].find(([n]) => name.startsWith(n))?.[1];
    const sample = family?.samples.find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    return sample?.value ?? 0;
  };
  return { services, metrics, scrape, families, value };
}

describe("GET /metrics", () => {
  test("names every designed metric, and prom-client's process metrics, in the text format", async () => {
    const { scrape } = await setup();
    const r = await scrape();
    expect(r.status).toBe(200);
    expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parseExposition(r.text);
    for (const [name, type] of DESIGNED) expect(families.get(name)?.type, name).toBe(type);
    expect(families.get("process_cpu_user_seconds_total")?.type).toBe("counter");
    expect(families.get("nodejs_eventloop_lag_seconds")?.type).toBe("gauge");
  });

  // README's table under "Metrics" is what an operator builds dashboards from.
  test("README's metrics table names every vigil_ metric with its type, and no other", async () => {
    const { scrape } = await setup();
    const served = [...parseExposition((await scrape()).text).entries()]
      .filter(([name]) => name.startsWith("vigil_"))
      .map(([name, family]) => `${name} ${family.type}`);
    const readme = [
      ...readFileSync("README.md", "utf8").matchAll(/^\| `(vigil_[a-z_]+)(?:\{[a-z,]*\})?` +\| (\w+) /gm),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(readme.sort()).toEqual(served.sort());
  });

  // The labels are what a query names: README's `{policy,outcome,trigger}` are the labels served.
  test("README's metrics table gives each vigil_ metric the labels its samples carry", async () => {
    const m = await setup();
    await m.services.governor.putObject("w1", { policy: "queue-worker" });
    await m.services.governor.postFacts("w1", { queue: { depth: 3 } });
    await m.services.advance(10_000);
    const served = new Map(
      [...(await m.families()).entries()]
        .filter(([name]) => name.startsWith("vigil_"))
        .map(([name, family]) => {
          const labels = new Set(family.samples.flatMap((x) => Object.keys(x.labels)).filter((l) => l !== "le"));
          return [name, [...labels].sort().join(",")];
        }),
    );
    const readme = [...readFileSync("README.md", "utf8").matchAll(/^\| `(vigil_[a-z_]+)(?:\{([a-z,]*)\})?` +\|/gm)].map(
      (match) => [match[1]!, (match[2] ?? "").split(",").filter(Boolean).sort().join(",")] as const,
    );
    expect(readme.length).toBe(served.size);
    for (const [name, labels] of readme) expect(served.get(name), name).toBe(labels);
  });

  test("a posted fact is counted: its decision, its evaluation, its commit and its arrival", async () => {
    const m = await setup();
    const { governor } = m.services;
    await governor.putObject("w1", { policy: "queue-worker" });
    await governor.postFacts("w1", { queue: { depth: 3 } });
    await governor.postFacts("w1", { queue: { depth: 4 } });
    expect(await m.value("vigil_decisions_total", { policy: "queue-worker", outcome: "none", trigger: "create" })).toBe(
      1,
    );
    // Both facts find work queued; each decision is stored.
    expect(await m.value("vigil_decisions_total", { policy: "queue-worker", outcome: "wake", trigger: "facts" })).toBe(
      2,
    );
    expect(await m.value("vigil_decisions_total", { policy: "queue-worker", outcome: "none", trigger: "facts" })).toBe(
      0,
    );
    expect(await m.value("vigil_evaluations_total", { policy: "queue-worker", trigger: "facts" })).toBe(2);
    expect(await m.value("vigil_evaluations_total", { policy: "queue-worker", trigger: "create" })).toBe(1);
    expect(await m.value("vigil_arrival_duration_seconds_count")).toBe(3);
    expect(await m.value("vigil_arrival_duration_seconds_sum")).toBeGreaterThan(0);
    // Three commits one after the other; the driver's confirmation is not a group commit.
    expect(await m.value("vigil_commit_batch_size_count")).toBe(3);
    expect(await m.value("vigil_commit_batch_size_sum")).toBe(3);
  });

  test("arrivals that come together are one transaction: the batch size says so", async () => {
    const m = await setup();
    const { governor } = m.services;
    await Promise.all(["a", "b", "c", "d"].map((id) => governor.putObject(id, { policy: "queue-worker" })));
    expect(await m.value("vigil_commit_batch_size_count")).toBe(1);
    expect(await m.value("vigil_commit_batch_size_sum")).toBe(4);
    expect(await m.value("vigil_commit_batch_size_bucket", { le: "2" })).toBe(0);
    expect(await m.value("vigil_commit_batch_size_bucket", { le: "4" })).toBe(1);
  });

  test("objects per state, and the seconds spent in each, are exact on the virtual clock", async () => {
    const m = await setup();
    const s = m.services;
    const labels = (state: string) => ({ policy: "queue-worker", state });
    await s.governor.putObject("w1", {
      policy: "queue-worker",
      substrate: { driver: "simulated", config: { startMs: 500 } },
    });
    await s.governor.putObject("w2", { policy: "queue-worker" });
    await s.advance(10_000);
    await s.governor.postFacts("w1", { queue: { depth: 3 } });
    expect(await m.value("vigil_objects", labels("waking"))).toBe(1);
    expect(await m.value("vigil_objects", labels("dormant"))).toBe(1);
    await s.advance(500);
    expect(await m.value("vigil_actions_total", { driver: "simulated", kind: "start", result: "confirmed" })).toBe(1);
    expect(await m.value("vigil_objects", labels("waking"))).toBe(0);
    expect(await m.value("vigil_objects", labels("active"))).toBe(1);
    await s.advance(60_000);
    // w1: 10 s dormant, 0.5 s waking, 60 s active; w2: dormant all along (70.5 s).
    expect(await m.value("vigil_state_seconds_total", labels("dormant"))).toBe(80.5);
    expect(await m.value("vigil_state_seconds_total", labels("waking"))).toBe(0.5);
    expect(await m.value("vigil_state_seconds_total", labels("active"))).toBe(60);
    await s.governor.deleteObject("w2", "keep");
    await s.advance(1_000);
    expect(await m.value("vigil_objects", labels("dormant"))).toBe(0);
    expect(await m.value("vigil_state_seconds_total", labels("dormant"))).toBe(80.5);
    expect(await m.value("vigil_state_seconds_total", labels("active"))).toBe(61);
  });

  test("after a restart the census counts from the store, and the seconds from the start", async () => {
    const first = await makeServices();
    await first.governor.putObject("w1", { policy: "queue-worker" });
    await first.governor.putObject("w2", { policy: "queue-worker" });
    await first.governor.postFacts("w1", { queue: { depth: 1 } });
    // Closing lets the start in flight be confirmed: w1 is active in the store.
    await first.governor.close();
    const again = await makeServices({ store: first.store, start: first.clock.now() + 3_600_000 });
    open.push(again);
    const m = await setup({ services: again });
    expect(await m.value("vigil_objects", { policy: "queue-worker", state: "dormant" })).toBe(1);
    expect(await m.value("vigil_objects", { policy: "queue-worker", state: "active" })).toBe(1);
    await again.advance(2_000);
    // The hour the server was down is not counted: time since this server started.
    expect(await m.value("vigil_state_seconds_total", { policy: "queue-worker", state: "dormant" })).toBe(2);
  });

  test("actions are counted by driver, kind and result: retried, superseded, failed, confirmed", async () => {
    const m = await setup();
    const s = m.services;
    (s.driver as unknown as { random: () => number }).random = () => 0;
    await s.governor.putObject("n1", {
      policy: "nightly-report",
      substrate: { driver: "simulated", config: { failRate: 1 } },
    });
    await s.governor.postFacts("n1", { report: { requested: true } });
    await s.advance(0); // the start's first attempt fails; it waits out its backoff
    await s.governor.postFacts("n1", { report: { requested: false, status: "sent" } });
    const action = (kind: string, result: string) =>
      m.value("vigil_actions_total", { driver: "simulated", kind, result });
    expect(await action("start", "retried")).toBe(1);
    expect(await action("start", "superseded")).toBe(1);
    await s.advance(10 * 60_000); // the stop is tried 6 times, then fails for good
    expect(await action("stop", "retried")).toBe(5);
    expect(await action("stop", "failed")).toBe(1);
    expect(await action("start", "confirmed")).toBe(0);
  });

  test("a start in flight to the old binding that fails after a rebind is closed and counted as superseded", async () => {
    const m = await setup();
    const s = m.services;
    (s.driver as unknown as { random: () => number }).random = () => 0;
    await s.governor.putObject("n1", {
      policy: "nightly-report",
      substrate: { driver: "simulated", config: { startMs: 1000, failRate: 1 } },
    });
    const { decision } = await s.governor.postFacts("n1", { report: { requested: true } });
    await s.advance(0); // the start is with the driver, answering (with an error) in 1 s
    await s.governor.putObject("n1", {
      policy: "nightly-report",
      substrate: { driver: "simulated", config: { startMs: 5 } },
    });
    await s.advance(2_000);
    const start = (await s.governor.getDecision(decision.id))!.actions[0]!;
    expect(start.status).toBe("superseded");
    const action = (result: string) => m.value("vigil_actions_total", { driver: "simulated", kind: "start", result });
    expect(await action("failed")).toBe(0);
    expect(await action("superseded")).toBe(1);
    // The new binding's start went through.
    expect(await action("confirmed")).toBe(1);
    expect((await s.governor.getObject("n1"))!.state).toBe("active");
  });

  test("a queued action a rebind to another driver drops is counted against the driver it was queued for", async () => {
    const clock = new VirtualClock(START);
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(RULES_DIR);
    const other = new SimulatedDriver({ clock, random: () => 0.5 });
    Object.defineProperty(other, "name", { value: "other" });
    const drivers = [new SimulatedDriver({ clock, random: () => 0.5 }), other];
    const g = new Governor({ store: new MemoryStore(), policies, drivers, clock, random: () => 0.5 });
    await g.start();
    const metrics = new Metrics(g, { processMetrics: false });
    metricsOpen.push(metrics);
    const advance = (ms: number) => clock.advance(ms, () => g.idle());
    try {
      await g.putObject("n1", {
        policy: "nightly-report",
        substrate: { driver: "simulated", config: { startMs: 1000 } },
      });
      await g.postFacts("n1", { report: { requested: true } });
      await advance(0); // the start is with the simulated driver for 1 s
      const { decision } = await g.postFacts("n1", { report: { requested: false, status: "sent" } });
      expect(decision.actions.map((a) => a.kind)).toEqual(["stop"]); // queued behind the start
      await g.putObject("n1", { policy: "nightly-report", substrate: { driver: "other", config: {} } });
      await advance(2_000);
      expect((await g.getDecision(decision.id))!.actions[0]!.status).toBe("superseded");
      const text = await metrics.registry.metrics();
      // Nothing was ever sent to "other".
      expect(text).toContain('vigil_actions_total{driver="simulated",kind="stop",result="superseded"} 1');
      expect(text).not.toContain('vigil_actions_total{driver="other",kind="stop",result="superseded"}');
    } finally {
      await g.close();
    }
  });

  test("timers: those pending, and how late each fired", async () => {
    const m = await setup();
    const s = m.services;
    await s.governor.putObject("n1", { policy: "nightly-report" });
    await s.governor.postFacts("n1", { report: { requested: true } });
    await s.advance(0);
    await s.governor.postFacts("n1", { report: { requested: false, status: "sent" } });
    await s.advance(0);
    // "report sent; check in again in an hour": one wake timer.
    expect(await m.value("vigil_timers_pending")).toBe(1);
    expect(await m.value("vigil_timer_lag_seconds_count")).toBe(0);
    await s.advance(3_600_000);
    expect(await m.value("vigil_timer_lag_seconds_count")).toBe(1);
    // On the virtual clock a timer fires at its due time exactly.
    expect(await m.value("vigil_timer_lag_seconds_bucket", { le: "0.001" })).toBe(1);
    expect(await m.value("vigil_evaluations_total", { policy: "nightly-report", trigger: "timer" })).toBe(1);
  });

  test("a count of timers the database does not answer leaves the last count after 2 s; one that fails, at once", async () => {
    const m = await setup();
    const s = m.services;
    await s.governor.putObject("n1", { policy: "nightly-report" });
    await s.governor.postFacts("n1", { report: { requested: true } });
    await s.governor.postFacts("n1", { report: { requested: false, status: "sent" } });
    await s.advance(0);
    expect(await m.value("vigil_timers_pending")).toBe(1);
    // A remote round trip may go unanswered for 15 s; a scraper gives up before that.
    s.store.countTimers = () => new Promise<number>(() => {});
    let scraped: string | null = null;
    void m.scrape(TOKENS.read).then((r) => (scraped = r.text));
    await s.advance(1999);
    expect(scraped).toBeNull();
    await s.advance(1);
    expect(scraped).toMatch(/^vigil_timers_pending 1$/m);
    expect(scraped).toMatch(/^vigil_objects\{policy="nightly-report",state="/m);
    s.store.countTimers = () => Promise.reject(new Error("the database does not answer"));
    expect(await m.value("vigil_timers_pending")).toBe(1);
  });

  // A 0 before any count came would read as "no timers pending" to a dashboard or an alert.
  test("before a count of timers has succeeded, vigil_timers_pending has no sample", async () => {
    const m = await setup();
    const s = m.services;
    await s.governor.putObject("n1", { policy: "nightly-report" });
    await s.governor.postFacts("n1", { report: { requested: true } });
    await s.governor.postFacts("n1", { report: { requested: false, status: "sent" } });
    await s.advance(0);
    const countTimers = s.store.countTimers.bind(s.store);
    s.store.countTimers = () => Promise.reject(new Error("the database does not answer"));
    const pending = async () => (await m.families()).get("vigil_timers_pending");
    expect((await pending())?.type, "the family is declared").toBe("gauge");
    expect((await pending())?.samples).toEqual([]);
    // One that never answers: the scrape is answered 2 s on, still without a sample.
    s.store.countTimers = () => new Promise<number>(() => {});
    let scraped: string | null = null;
    void m.scrape(TOKENS.read).then((r) => (scraped = r.text));
    await s.advance(2000);
    expect(scraped).toMatch(/^# TYPE vigil_timers_pending gauge$/m);
    expect(scraped).not.toMatch(/^vigil_timers_pending /m);
    // The first count that succeeds is the sample from then on, kept when a later count fails.
    s.store.countTimers = countTimers;
    await s.advance(2000);
    expect((await pending())?.samples.map((x) => x.value)).toEqual([1]);
    s.store.countTimers = () => Promise.reject(new Error("the database does not answer"));
    await s.advance(2000);
    expect((await pending())?.samples.map((x) => x.value)).toEqual([1]);
  });

  test("each app counts its own governor: one registry per server", async () => {
    const a = await setup();
    const b = await setup();
    await a.services.governor.putObject("w1", { policy: "queue-worker" });
    expect(await a.value("vigil_evaluations_total", { policy: "queue-worker", trigger: "create" })).toBe(1);
    expect(await b.value("vigil_evaluations_total", { policy: "queue-worker", trigger: "create" })).toBe(0);
  });
});

describe("who may read /metrics", () => {
  test.each([
    [undefined, false, 401],
    ["bogus-token-0123456789", false, 401],
    [TOKENS.facts, false, 403],
    [TOKENS.objects, false, 403],
    [TOKENS.read, false, 200],
    [TOKENS.admin, false, 200],
    [undefined, true, 200],
    [TOKENS.facts, true, 200],
  ])("token %s, public %s: %i", async (token, isPublic, status) => {
    const { scrape } = await setup({ tokens: TOKEN_CONFIG, isPublic });
    const r = await scrape(token);
    expect(r.status).toBe(status);
    if (status !== 200) expect(r.contentType).toBe("application/problem+json");
  });

  test("without a metrics service there is no /metrics route", async () => {
    const services = await makeServices();
    open.push(services);
    const app = createApp({
      governor: services.governor,
      policies: services.policies,
      whatIf: services.whatIf,
      tokens: [],
    });
    expect((await app.request("/metrics")).status).toBe(404);
  });
});
