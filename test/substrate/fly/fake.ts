// A local Fly Machines API for the fly driver's tests, served over real HTTP (hono on
// 127.0.0.1, port 0). Routing, parameters and bodies come from Fly's OpenAPI document
// (openapi.ts): a request the document does not allow is answered 404/405/400 and recorded
// as a violation. On top: bearer auth, Fly's rate limits per machine and action, machine
// states that move on the fake's clock (`starting` → `started`, ...), leases, and faults a
// test injects (503, 429, 412, redirects, oversized replies, slow replies, slow transitions).

import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, TimerHandle } from "../../../src/core/clock.ts";
import { SystemClock } from "../../../src/timers/clock.ts";
import { loadSpec, type MatchedOperation } from "./openapi.ts";
import { seededRandom } from "../../../src/core/random.ts";

/** Fly's machine states (fly.io/docs/machines/machine-states); a test may set any of them. */
export type FlyState =
  | "creating"
  | "created"
  | "starting"
  | "started"
  | "restarting"
  | "stopping"
  | "stopped"
  | "suspending"
  | "suspended"
  | "updating"
  | "replacing"
  | "failed"
  | "launch_failed"
  | "destroying"
  | "destroyed";

export interface FakeMachine {
  id: string;
  state: FlyState;
  /** 26 characters, like Fly's machine version IDs. */
  instanceId: string;
  lease: { nonce: string; expiresAt: number; owner: string; description: string } | null;
  /**
   * The Machine's `host_status` as the document gives it (ok, unknown, unreachable): a test sets
   * `unreachable` for a host Fly cannot contact, whose machine Fly answers with the last state it
   * knew, and refuses a start, stop or suspend of it (503: the command cannot reach the host).
   * The fake's machine still moves as a test tells it.
   */
  hostStatus: "ok" | "unknown" | "unreachable";
  /** The body of the last stop request, for assertions. */
  lastStop: unknown;
  /** The machine's own stop grace (`config.stop_config.timeout`, a Go duration as Fly gives it), when a test sets one. */
  stopTimeout: string | null;
  timer: TimerHandle | null;
}

/** What a fault or rate limit applies to: the operationId's action. */
export type FakeAction =
  "get" | "wait" | "start" | "stop" | "suspend" | "lease-acquire" | "lease-release" | "lease-show";

const ACTIONS: Record<string, FakeAction> = {
  Machines_show: "get",
  Machines_wait: "wait",
  Machines_start: "start",
  Machines_stop: "stop",
  Machines_suspend: "suspend",
  Machines_create_lease: "lease-acquire",
  Machines_release_lease: "lease-release",
  Machines_show_lease: "lease-show",
};

export interface FaultRule {
  /** The action it hits; every action when absent. */
  action?: FakeAction;
  /** The status to answer instead of serving the request; absent: served (late, with `delayMs`). */
  status?: number;
  /**
   * Holds the answer this long on the fake's clock. The request takes effect first (a start
   * starts), only the answer is late: past the client's timeout it is an answer never received.
   */
  delayMs?: number;
  /** A `Location` header to send (with a 3xx `status`: a redirect). */
  location?: string;
  /** A raw answer body, sent as is instead of the `{error}` JSON. */
  rawBody?: string;
  /** How many requests it hits (default 1; Infinity for always). */
  times?: number;
  /** Hits each matching request with this probability (then `times` defaults to Infinity). */
  probability?: number;
  /** Retry-After seconds to send (429 gets 1 when absent). */
  retryAfterS?: number;
  /** The `error` text of the answer. */
  error?: string;
}

/** Faults the test injects; the first that applies is taken, before the rate limit and the machine. */
export class Faults {
  private rules: (FaultRule & { left: number })[] = [];
  /** Requests answered with an injected fault. */
  injected = 0;

  constructor(private readonly random: () => number) {}

  add(rule: FaultRule): this {
    this.rules.push({ ...rule, left: rule.times ?? (rule.probability === undefined ? 1 : Infinity) });
    return this;
  }

  clear(): this {
    this.rules = [];
    return this;
  }

  /** The fault for one request, if any; `random` overrides the draw (a per-machine stream). */
  take(action: FakeAction, random: () => number = this.random): FaultRule | null {
    for (const r of this.rules) {
      if (r.left <= 0 || (r.action !== undefined && r.action !== action)) continue;
      if (r.probability !== undefined && random() >= r.probability) continue;
      r.left--;
      this.injected++;
      return r;
    }
    return null;
  }
}

/** One request, logged when it arrives; `status` is 0 until it is answered. */
export interface RecordedRequest {
  /** When the answer was ready (a wait's, after the wait). */
  at: number;
  /** When the request arrived: what rate limits count. */
  received: number;
  /** The client's REQUEST_ID_HEADER, if it sent one. */
  id: string | null;
  /** The client went away before the answer (its timeout). */
  aborted: boolean;
  method: string;
  path: string;
  action: FakeAction | null;
  query: Record<string, string>;
  nonce: string | null;
  body: unknown;
  status: number;
}

export interface Violation {
  method: string;
  path: string;
  problems: string[];
}

export interface FlyFakeOptions {
  /** The fake's time: share the driver's virtual clock in tests. Default: system time. */
  clock?: Clock;
  token?: string;
  app?: string;
  machines?: (string | { id: string; state?: FlyState })[];
  /** How long each transition takes, in ms. */
  transitionMs?: Partial<Record<"start" | "stop" | "suspend", number>>;
  /** Random numbers for probabilistic faults and IDs (seed it for repeatable runs). */
  random?: () => number;
  specPath?: string;
  /** False checks against the document exactly as written (see SCHEMA_OVERRIDES). */
  specOverrides?: boolean;
  /** False turns the fake's rate limits off. */
  rateLimits?: boolean;
  /**
   * Draws probabilistic faults and slow transitions from one stream per machine, seeded from
   * this and the machine id: each machine's requests come one after another, so what befalls
   * a machine repeats run to run however the machines' requests interleave.
   */
  seed?: number;
  /** Makes a transition slower by `extraMs` with this probability. */
  slowTransitions?: { probability: number; extraMs: number };
}

/** The header a test client may send to name its request; see `parkedIds`. */
export const REQUEST_ID_HEADER = "x-test-request-id";

export interface FlyFake {
  /** Pass as the driver config's `apiUrl` (the fake serves `{url}/v1/...`). */
  url: string;
  token: string;
  app: string;
  machines: Map<string, FakeMachine>;
  faults: Faults;
  /** Mutable: slow transitions take effect from the next command. */
  transitionMs: Record<"start" | "stop" | "suspend", number>;
  requests: RecordedRequest[];
  /** Requests that broke the spec. Tests of the driver expect none. */
  violations: Violation[];
  /** Answers of the fake's own that broke the spec (a bug in the fake). */
  selfViolations: Violation[];
  /** Requests refused by the rate limits (not counting injected 429s). */
  readonly rateLimited: number;
  /** Wait requests blocked on the fake's clock right now. */
  readonly parked: number;
  /** REQUEST_ID_HEADER of the requests blocked on the fake's clock (waits, slow answers). */
  parkedIds: ReadonlySet<string>;
  /** Mutable, like `transitionMs`: null turns slow transitions off. */
  slowTransitions: { probability: number; extraMs: number } | null;
  /** Transitions slowed down by `slowTransitions`. */
  readonly slowed: number;
  addMachine(id: string, state?: FlyState): FakeMachine;
  /** Sets a machine `replacing` (an update in progress) for `ms`, then `stopped`. */
  replace(id: string, ms: number): void;
  /** Takes the machine's lease for someone else. */
  holdLease(id: string, ttlS: number, owner?: string): string;
  close(): Promise<void>;
}

/** Fly's published limits: 1 request/s per action per machine, bursts of 3; Get Machine 5/s, bursts of 10. */
function limitOf(action: FakeAction): { ratePerS: number; burst: number } {
  return action === "get" ? { ratePerS: 5, burst: 10 } : { ratePerS: 1, burst: 3 };
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

interface Waiter {
  machine: FakeMachine;
  state: string;
  /** The instance the wait names (`instance_id`), if it names one. */
  instance: string | null;
  /** How the wait ends: the state reached, its timeout, or the instance it names replaced. */
  done: (end: WaitEnd) => void;
}

type WaitEnd = "reached" | "timeout" | "replaced";

/** Nanoseconds in each unit of a Go duration. */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Whether Go's time.ParseDuration takes a duration of the document's syntax, as Go works it out:
 * whole numbers in uint64 (none past 1<<63), a fraction's digits while they fit, scaled in float64
 * (`uint64(float64(f) * (float64(unit) / scale))`), every part and running sum at most 1<<63, and
 * the duration at most 1<<63 - 1 ns.
 */
function goParses(text: string): boolean {
  const limit = 2n ** 63n;
  let sum = 0n;
  // Either side of the point may be empty (`.5s`, `1.s`); a bare `0` has no part at all.
  for (const [, whole, fraction = "", unit] of text.matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g)) {
    const perUnit = UNIT_NS[unit!]!;
    const v = BigInt(whole || "0");
    if (v > limit || v > limit / perUnit) return false;
    const kept = fractionKept(fraction);
    const part = v * perUnit + BigInt(Math.trunc(Number(kept.f) * (Number(perUnit) / 10 ** kept.digits)));
    if (part > limit) return false;
    sum += part;
    if (sum > limit) return false;
  }
  return sum <= limit - 1n;
}

/** The leading digits of a fraction Go keeps (while their number stays within 1<<63), and how many. */
function fractionKept(fraction: string): { f: bigint; digits: number } {
  let f = 0n;
  let digits = 0;
  for (const c of fraction) {
    const next = f * 10n + BigInt(c);
    if (f > (2n ** 63n - 1n) / 10n || next > 2n ** 63n) break;
    f = next;
    digits++;
  }
  return { f, digits };
}

/** FNV-1a, to seed a machine's stream from its id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Starts the fake; resolves once it listens. */
export async function startFlyFake(options: FlyFakeOptions = {}): Promise<FlyFake> {
  const spec = loadSpec(options.specPath, options.specOverrides ?? true);
  const clock = options.clock ?? new SystemClock();
  const random = options.random ?? Math.random;
  const app = options.app ?? "vigil-test";
  const token = options.token ?? `fake-${Math.floor(random() * 1e12).toString(36)}`;
  const machines = new Map<string, FakeMachine>();
  const faults = new Faults(random);
  const transitionMs = { start: 300, stop: 200, suspend: 400, ...options.transitionMs };
  const requests: RecordedRequest[] = [];
  const violations: Violation[] = [];
  const selfViolations: Violation[] = [];
  const waiters = new Set<Waiter>();
  const parkedIds = new Set<string>();
  /** Slow answers on the clock, released early when their client goes away, or at close. */
  const delays = new Set<() => void>();
  const streams = new Map<string, () => number>();
  /** The random stream for what happens to one machine. */
  const randomFor = (machineId: string) => {
    if (options.seed === undefined) return random;
    let r = streams.get(machineId);
    if (!r) streams.set(machineId, (r = seededRandom(options.seed ^ hash(machineId))));
    return r;
  };
  let slowed = 0;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let rateLimited = 0;
  let parked = 0;

  const randomId = (n: number, alphabet: string) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");

  const setState = (m: FakeMachine, state: FlyState) => {
    m.state = state;
    for (const w of waiters) if (w.machine === m && w.state === state) w.done("reached");
  };

  /** Moves through `via` to `to` after `ms` on the fake's clock (or later: `slowTransitions`). */
  const transition = (m: FakeMachine, via: FlyState, to: FlyState, ms: number) => {
    if (m.timer) clock.clearTimeout(m.timer);
    const slow = fake.slowTransitions;
    if (slow && randomFor(m.id)() < slow.probability) {
      slowed++;
      ms += slow.extraMs;
    }
    setState(m, via);
    m.timer = clock.setTimeout(() => {
      m.timer = null;
      setState(m, to);
    }, ms);
  };

  const addMachine = (id: string, state: FlyState = "stopped"): FakeMachine => {
    const m: FakeMachine = {
      id,
      state,
      instanceId: randomId(26, CROCKFORD),
      lease: null,
      hostStatus: "ok",
      lastStop: null,
      stopTimeout: null,
      timer: null,
    };
    machines.set(id, m);
    return m;
  };
  for (const m of options.machines ?? []) {
    if (typeof m === "string") addMachine(m);
    else addMachine(m.id, m.state);
  }

  const activeLease = (m: FakeMachine) => (m.lease && m.lease.expiresAt > clock.now() ? m.lease : null);

  /** Takes a token from the machine's bucket for the action; the seconds to wait when empty. */
  const limited = (machineId: string, action: FakeAction): number | null => {
    if (options.rateLimits === false) return null;
    const { ratePerS, burst } = limitOf(action);
    const key = `${machineId} ${action}`;
    const now = clock.now();
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerS) / 1000);
    b.at = now;
    buckets.set(key, b);
    // A little slack for floating point: a request exactly on the refill is on time.
    if (b.tokens >= 1 - 1e-9) {
      b.tokens = Math.max(0, b.tokens - 1);
      return null;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / ratePerS));
  };

  const leaseJson = (l: NonNullable<FakeMachine["lease"]>, m: FakeMachine) => ({
    nonce: l.nonce,
    expires_at: Math.floor(l.expiresAt / 1000),
    owner: l.owner,
    description: l.description,
    version: m.instanceId,
  });

  const machineJson = (m: FakeMachine) => ({
    id: m.id,
    name: `machine-${m.id}`,
    state: m.state,
    region: "ams",
    instance_id: m.instanceId,
    private_ip: "fdaa:0:1:a7b:1::2",
    created_at: "2025-01-01T00:00:00Z",
    updated_at: new Date(clock.now()).toISOString(),
    host_status: m.hostStatus,
    ...(m.stopTimeout === null ? {} : { config: { stop_config: { timeout: m.stopTimeout } } }),
  });

  type Answer = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };
  const error = (status: number, message: string, headers?: Record<string, string>): Answer => ({
    status,
    body: { error: message },
    headers,
  });

  /**
   * Waits on the fake's clock for `state`, the timeout, or (for a wait naming `instance`) the
   * machine replaced by another instance; counts itself as parked meanwhile.
   */
  const park = (
    m: FakeMachine,
    state: string,
    instance: string | null,
    timeoutS: number,
    id: string | null,
  ): Promise<WaitEnd> =>
    new Promise((resolve) => {
      parked++;
      if (id) parkedIds.add(id);
      const w: Waiter = {
        machine: m,
        state,
        instance,
        done: (end) => {
          if (!waiters.delete(w)) return;
          parked--;
          if (id) parkedIds.delete(id);
          clock.clearTimeout(timer);
          resolve(end);
        },
      };
      const timer = clock.setTimeout(() => w.done("timeout"), timeoutS * 1000);
      waiters.add(w);
    });

  /** Holds a slow answer `ms` on the fake's clock; parked meanwhile, released if the client leaves. */
  const delay = (ms: number, id: string | null, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (id) parkedIds.add(id);
      const done = () => {
        if (!delays.delete(done)) return;
        if (id) parkedIds.delete(id);
        clock.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = clock.setTimeout(done, ms);
      delays.add(done);
      signal.addEventListener("abort", done);
    });

  /** The machine endpoints, by operationId; the request is already checked against the spec. */
  const handle = async (
    op: MatchedOperation,
    m: FakeMachine,
    query: URLSearchParams,
    nonce: string | null,
    body: unknown,
    id: string | null,
  ): Promise<Answer> => {
    const lease = activeLease(m);
    const mutating = ["Machines_start", "Machines_stop", "Machines_suspend"].includes(op.operationId);
    if (mutating && lease && lease.nonce !== nonce)
      return error(409, `machine ${m.id} is leased by ${lease.owner}: send its fly-machine-lease-nonce`);
    if (mutating && m.hostStatus === "unreachable") return error(503, `unable to reach the host of machine ${m.id}`);
    const refuse = (verb: string) => error(412, `unable to ${verb} machine from current state: '${m.state}'`);
    switch (op.operationId) {
      case "Machines_show":
        return { status: 200, body: machineJson(m) };
      case "Machines_start": {
        const previous = m.state;
        if (m.state === "starting") return { status: 200, body: { previous_state: previous } };
        if (!["stopped", "created", "suspended", "failed"].includes(m.state)) return refuse("start");
        transition(m, "starting", "started", transitionMs.start);
        return { status: 200, body: { previous_state: previous } };
      }
      case "Machines_stop": {
        const timeout = (body as { timeout?: unknown } | undefined)?.timeout;
        // Fly parses it with Go's time.ParseDuration, which refuses more than an int64 of nanoseconds.
        if (typeof timeout === "string" && !goParses(timeout)) return error(400, `time: invalid duration "${timeout}"`);
        m.lastStop = body ?? null;
        if (["stopped", "created", "stopping", "failed"].includes(m.state)) return { status: 200, body: { ok: true } };
        if (!["started", "starting", "suspended"].includes(m.state)) return refuse("stop");
        transition(m, "stopping", "stopped", transitionMs.stop);
        return { status: 200, body: { ok: true } };
      }
      case "Machines_suspend": {
        if (["suspended", "suspending"].includes(m.state)) return { status: 200, body: { ok: true } };
        if (m.state !== "started") return refuse("suspend");
        transition(m, "suspending", "suspended", transitionMs.suspend);
        return { status: 200, body: { ok: true } };
      }
      case "Machines_wait": {
        const state = query.get("state") ?? "started";
        const timeoutS = Math.min(60, Number(query.get("timeout") ?? 60));
        const instance = query.get("instance_id");
        const notCurrent = () => error(400, `instance_id ${instance} is not the machine's current instance`);
        if (instance !== null && instance !== m.instanceId) return notCurrent();
        if (m.state === state) return { status: 200, body: { ok: true } };
        // A wait under way when its instance is replaced is refused as one sent after (the
        // document's 400): the new instance reaching the state is not the one named.
        const end = await park(m, state, instance, timeoutS, id);
        if (end === "replaced") return notCurrent();
        return end === "reached"
          ? { status: 200, body: { ok: true } }
          : error(408, `deadline_exceeded: machine not ${state}`);
      }
      case "Machines_create_lease": {
        if (lease && lease.nonce !== nonce) return error(409, `lease currently held by ${lease.owner}`);
        const req = (body ?? {}) as { ttl?: number; description?: string };
        const next = {
          nonce: lease?.nonce ?? randomId(12, "0123456789abcdef"),
          expiresAt: clock.now() + (req.ttl ?? 30) * 1000,
          owner: "vigil@example.com",
          description: req.description ?? "",
        };
        m.lease = next;
        return { status: 200, body: leaseJson(next, m) };
      }
      case "Machines_release_lease": {
        if (!lease) return error(404, "no lease to release");
        if (lease.nonce !== nonce) return error(409, "lease nonce does not match");
        m.lease = null;
        return { status: 200, body: { ok: true } };
      }
      case "Machines_show_lease":
        return lease ? { status: 200, body: leaseJson(lease, m) } : error(404, "no active lease");
      default:
        return error(501, `${op.operationId} is not served by the fake`);
    }
  };

  const respond = (c: Context, a: Answer) => {
    for (const [k, v] of Object.entries(a.headers ?? {})) c.header(k, v);
    if (a.raw !== undefined) return c.body(a.raw, a.status as 200);
    return c.json(a.body ?? {}, a.status as 200);
  };

  const app$ = new Hono();
  app$.all("*", async (c) => {
    const url = new URL(c.req.url);
    const method = c.req.method;
    const nonce = c.req.header("fly-machine-lease-nonce") ?? null;
    // Logged on arrival (what rate limits count), completed with the answer.
    const entry: RecordedRequest = {
      at: clock.now(),
      received: clock.now(),
      id: c.req.header(REQUEST_ID_HEADER) ?? null,
      aborted: false,
      method,
      path: url.pathname,
      action: null,
      query: Object.fromEntries(url.searchParams),
      nonce,
      body: undefined,
      status: 0,
    };
    requests.push(entry);
    const id = entry.id;
    const text = await c.req.text();
    const record = (status: number, action: FakeAction | null, body: unknown) =>
      Object.assign(entry, { at: clock.now(), aborted: c.req.raw.signal.aborted, action, body, status });
    const violation = (status: number, problems: string[]) => {
      violations.push({ method, path: url.pathname + url.search, problems });
      record(status, null, text);
      return respond(c, error(status, problems.join("; ")));
    };

    const matched = spec.match(method, url.pathname);
    if (!("found" in matched)) return violation(matched.status, [matched.problem]);
    const op = matched.found;
    const problems = spec.checkRequest(op, url.searchParams, c.req.raw.headers, {
      text,
      contentType: c.req.header("content-type") ?? null,
    });
    if (problems.length > 0) return violation(400, problems);
    const body: unknown = text.trim() === "" ? undefined : JSON.parse(text);
    const action = ACTIONS[op.operationId] ?? null;
    entry.action = action;
    let lateMs: number | undefined;
    const answer = async (): Promise<Answer> => {
      if (c.req.header("authorization") !== `Bearer ${token}`) return error(401, "unauthorized");
      if (!action) return error(501, `${op.operationId} is in the spec but not served by the fake`);
      if (op.params.app_name !== app) return error(404, `app ${op.params.app_name} not found`);
      const m = machines.get(op.params.machine_id ?? "");
      if (!m) return error(404, `machine ${op.params.machine_id} not found`);
      const fault = faults.take(action, randomFor(m.id));
      lateMs = fault?.delayMs;
      if (fault?.status !== undefined) {
        const headers: Record<string, string> = {};
        const retryAfter = fault.retryAfterS ?? (fault.status === 429 ? 1 : undefined);
        if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
        if (fault.location !== undefined) headers.location = fault.location;
        const a = error(fault.status, fault.error ?? `injected ${fault.status}`, headers);
        if (fault.rawBody !== undefined) a.raw = fault.rawBody;
        return a;
      }
      const wait = limited(m.id, action);
      if (wait !== null) {
        rateLimited++;
        return error(429, "rate limit exceeded", { "retry-after": String(wait) });
      }
      return handle(op, m, url.searchParams, nonce, body, id);
    };
    const a = await answer();
    if (lateMs !== undefined) await delay(lateMs, id, c.req.raw.signal);
    // An injected raw body is the test's business, not the fake's answer.
    if (a.status >= 200 && a.status < 300 && a.raw === undefined) {
      const own = spec.checkResponse(op, a.status, a.body);
      if (own.length > 0) selfViolations.push({ method, path: url.pathname, problems: own });
    }
    record(a.status, action, body);
    return respond(c, a);
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app$.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server));
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FlyFake = {
    url: `http://127.0.0.1:${port}`,
    token,
    app,
    machines,
    faults,
    transitionMs,
    slowTransitions: options.slowTransitions ?? null,
    requests,
    violations,
    selfViolations,
    get rateLimited() {
      return rateLimited;
    },
    get parked() {
      return parked;
    },
    parkedIds,
    get slowed() {
      return slowed;
    },
    addMachine,
    replace(id, ms) {
      const m = machines.get(id);
      if (!m) throw new Error(`no machine ${id}`);
      // The new version is another instance: a wait naming the old one is refused (400), one
      // under way as well as one sent after.
      m.instanceId = randomId(26, CROCKFORD);
      for (const w of waiters) if (w.machine === m && w.instance !== null) w.done("replaced");
      transition(m, "replacing", "stopped", ms);
    },
    holdLease(id, ttlS, owner = "someone-else@example.com") {
      const m = machines.get(id);
      if (!m) throw new Error(`no machine ${id}`);
      const nonce = randomId(12, "0123456789abcdef");
      m.lease = { nonce, expiresAt: clock.now() + ttlS * 1000, owner, description: "held by a test" };
      return nonce;
    },
    async close() {
      for (const w of waiters) w.done("timeout");
      for (const d of delays) d();
      for (const m of machines.values()) if (m.timer) clock.clearTimeout(m.timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
