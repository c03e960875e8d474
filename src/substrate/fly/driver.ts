// The fly substrate: each object is one Fly Machine, driven through the Machines REST API.
// start, suspend and stop read the machine, send the command only when it is not already
// there (so repeating one is success), and wait for Fly to confirm the state. All waiting
// (rate limits, backoff, polling) is on the injected clock.
//
// Failures reject with DriverError. Retryable: 429, 5xx, 408, 409 (a lease held elsewhere, met
// taking one or by a command sent without one), 412 (machine still `created` or being replaced),
// no answer, a machine that never settled, or a command of one on a host Fly cannot reach
// (`host_status`: not sent, and a start of one read `started` not done); the driver retries these a few times itself and then hands them to
// the governor's outbox, which retries the action and finally marks the object `failed`. Not retryable: no token
// (FLY_API_TOKEN), an invalid config, an API base URL off the allow-list (`apiUrls`, the
// server's VIGIL_FLY_API_URLS), a redirect, an oversized reply, 400, 401, 403, 404 (Fly's
// `machine not found` makes a stop or suspend done and observe `destroyed`; any other 404 fails), a start
// of a machine destroyed or going away (`destroying`, `launch_failed`; a stop or suspend of one
// is done: nothing runs there).
//
// This file is past 400 lines because the per-machine bookkeeping of starts, the releases that
// meet them and shared observes sits with the commands it guards, in the one class.

import type { Clock } from "../../core/clock.ts";
import type { JsonObject, Observation } from "../../core/types.ts";
import { zodProblems } from "../../contracts/problems.ts";
import { DriverError, type Driver, type DriverTarget, type Release } from "../driver.ts";
import { FlyApiError, FlyClient, type StopBody } from "./client.ts";
import {
  apiUrlRefusal,
  DEFAULT_FLY_API_URL,
  DEFAULT_FLY_API_URLS,
  isHeaderSafe,
  machineKey,
  machineOf,
  flyConfigSchema,
  goDurationMs,
  normalizeApiUrl,
  type FlyConfig,
} from "./config.ts";
import { MachineLeases } from "./lease.ts";
import { RateLimiter } from "./rate-limit.ts";
import { phaseMs, reach, settled, shared, type Limits, type Run, type SharedCall } from "./rounds.ts";
import { DEFAULT_FLY_RETRY, withRetries, type RetryPolicy } from "./retry.ts";
import {
  GOAL_STATE,
  hostUnconfirmed,
  hostUnreachable,
  isGone,
  satisfies,
  settlesTo,
  SETTLED,
  statusOf,
  waitOrRead,
  type Goal,
} from "./states.ts";

export interface FlyDriverOptions {
  clock: Clock;
  /** API token; defaults to FLY_API_TOKEN. Without one every call rejects, not retryable. */
  token?: string;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: () => number;
  fetch?: typeof fetch;
  /** Seconds one `GET .../wait` may block, 1 to 60 (Fly's limit); default 60. */
  waitTimeoutS?: number;
  /** How many waits (each ending in 408) before giving up on a state; default 5. */
  maxWaits?: number;
  /** Leases for configs that do not set `lease`; default false. */
  useLeases?: boolean;
  /** Overrides of the driver's own retry policy (DEFAULT_FLY_RETRY). */
  retry?: Partial<RetryPolicy>;
  /** False turns client-side rate limiting off; only tests want that. */
  rateLimit?: boolean;
  /**
   * The API base URLs a config's `apiUrl` may name (the server's VIGIL_FLY_API_URLS); default
   * DEFAULT_FLY_API_URLS. A config without `apiUrl` uses DEFAULT_FLY_API_URL, which must be listed.
   */
  apiUrls?: readonly string[];
}

/** The longest observe() waits for a machine in motion. */
const OBSERVE_WAIT_S = 10;

export class FlyDriver implements Driver {
  readonly name = "fly";
  readonly canSuspend = true;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly token: string | undefined;
  private readonly fetch: typeof fetch;
  private readonly waitTimeoutS: number;
  private readonly maxWaits: number;
  /**
   * How long a machine lease is taken for: one phase of waiting (maxWaits waits) and a minute more;
   * extended before a further phase it no longer covers, and within one once half of it has gone.
   */
  private readonly leaseTtlS: number;
  private readonly limits: Limits;
  private readonly useLeases: boolean;
  private readonly retry: RetryPolicy;
  private readonly limiter: RateLimiter | null;
  private readonly apiUrls: ReadonlySet<string>;
  /** The machine leases of this driver's commands (lease.ts). */
  private readonly leases: MachineLeases;
  /** Starts begun on each machine, and the releases begun there while each start is under way: see start(). */
  private readonly starts = new Map<string, number>();
  private readonly watching = new Map<string, Set<Promise<boolean>[]>>();
  /** The observe under way on each machine (at its API address), which another observe shares. */
  private readonly observing = new Map<string, SharedCall<Observation>>();

  constructor(options: FlyDriverOptions) {
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.leases = new MachineLeases(this.random);
    // Trimmed as fetch trims a header's value: a secret read from a file ends in a line break.
    this.token = (options.token ?? process.env.FLY_API_TOKEN)?.trim() || undefined;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.waitTimeoutS = options.waitTimeoutS ?? 60;
    if (!Number.isInteger(this.waitTimeoutS) || this.waitTimeoutS < 1 || this.waitTimeoutS > 60)
      throw new RangeError("waitTimeoutS must be a whole number of seconds from 1 to 60");
    this.maxWaits = Math.max(1, options.maxWaits ?? 5);
    this.limits = { clock: this.clock, maxWaits: this.maxWaits, waitTimeoutS: this.waitTimeoutS };
    this.leaseTtlS = phaseMs(this.limits) / 1000 + 60;
    this.useLeases = options.useLeases ?? false;
    this.retry = { ...DEFAULT_FLY_RETRY, ...options.retry };
    this.limiter = options.rateLimit === false ? null : new RateLimiter(this.clock);
    this.apiUrls = new Set(
      (options.apiUrls ?? DEFAULT_FLY_API_URLS).map((u) => {
        const normal = normalizeApiUrl(u);
        if (normal === null) throw new RangeError(`apiUrls: ${u} is not an http(s) base URL`);
        return normal;
      }),
    );
  }

  /** The schema, then the allow-list: an `apiUrl` off it is refused when the object is PUT. */
  validateConfig(config: unknown) {
    const r = flyConfigSchema.safeParse(config ?? {});
    if (!r.success) return zodProblems(r.error);
    const refusal = apiUrlRefusal(r.data.apiUrl, this.apiUrls);
    return refusal ? [{ path: "$.apiUrl", message: refusal }] : [];
  }

  canonicalConfig(config: JsonObject): JsonObject {
    const r = flyConfigSchema.safeParse(config);
    if (!r.success) return config;
    // The defaults the driver applies: the API URL (normalized, as the allow-list compares it)
    // and leases as the driver is set up to hold them.
    const apiUrl = r.data.apiUrl ?? DEFAULT_FLY_API_URL;
    return {
      ...r.data,
      apiUrl: normalizeApiUrl(apiUrl) ?? apiUrl,
      lease: r.data.lease ?? this.useLeases,
    } as JsonObject;
  }

  /**
   * The same app and machine: another API address (both on the allow-list reach the same Fly),
   * stop signal or timeout, or leases on or off, are settings, applied from the next command.
   * The old config need not be allowed any more: an object whose API address was dropped from
   * VIGIL_FLY_API_URLS is moved to an allowed one without a stop it could not send.
   */
  sameCompute(a: JsonObject, b: JsonObject): boolean {
    const x = flyConfigSchema.safeParse(a);
    const y = flyConfigSchema.safeParse(b);
    return x.success && y.success && x.data.app === y.data.app && x.data.machineId === y.data.machineId;
  }

  // Under way when a release stops the machine (DELETE, rebind): no start request after it (a stopped
  // machine reads as a start that crashed); one that landed is stopped, unless a later start wants it.
  // The releases begun while it was under way decide once they end: if none went through, it stands.
  async start(t: DriverTarget): Promise<Observation> {
    const machine = machineOf(t.config);
    const mine = (this.starts.get(machine) ?? 0) + 1;
    this.starts.set(machine, mine);
    const releases: Promise<boolean>[] = [];
    const watchers = this.watching.get(machine) ?? new Set();
    this.watching.set(machine, watchers.add(releases));
    let released = false;
    let outcome: { observation: Observation } | { error: unknown };
    try {
      outcome = await this.command(t, "start", () => releases.length > 0).then(
        (observation) => ({ observation }),
        (error: unknown) => ({ error }),
      );
      // Until no release began meanwhile: one may begin while the start waits for another.
      for (let seen = -1; seen !== releases.length;) {
        seen = releases.length;
        released = (await Promise.all(releases)).includes(true);
      }
    } finally {
      watchers.delete(releases);
      if (watchers.size === 0 && this.watching.get(machine) === watchers) this.watching.delete(machine);
    }
    if (!released) {
      if ("error" in outcome) throw outcome.error;
      return outcome.observation;
    }
    if (this.starts.get(machine) === mine) await this.command(t, "stop");
    throw new DriverError("fly: the machine was released while it was starting, and is stopped", false);
  }

  suspend(t: DriverTarget): Promise<Observation> {
    return this.command(t, "suspend");
  }

  stop(t: DriverTarget): Promise<Observation> {
    return this.command(t, "stop");
  }

  /**
   * The machine's state. One in motion whose status is not known yet (starting, stopping, ...)
   * gets one short wait (at most OBSERVE_WAIT_S, since the governor's reconciliation observes
   * objects a few at a time) and is `unknown` if it is still moving; one going away (destroying,
   * launch_failed) is stopped already, however long it takes to go (a dead host's, for days).
   * One asked while another of the machine is under way (slow reads: reconciliation gave up on it)
   * shares it, instead of reading the machine beside it. Once every one asking has given up
   * (its `signal` aborted), the reads stop: no more tries, the request in flight cut.
   */
  async observe(t: DriverTarget, signal?: AbortSignal): Promise<Observation> {
    const { cfg, client } = this.prepare(t);
    const key = `${cfg.apiUrl ?? DEFAULT_FLY_API_URL} ${machineKey(cfg)}`;
    return shared(this.observing, key, signal, (cut) => this.observeOnce(cfg, client, cut));
  }

  private observeOnce(cfg: FlyConfig, client: FlyClient, cut: AbortSignal): Promise<Observation> {
    return this.guard("observe", cfg, () =>
      this.unlessGone(cfg, async () => {
        let m = await client.getMachine(cfg.app, cfg.machineId, cut);
        const next = settlesTo(m.state);
        // Not on a host Fly cannot reach: its state is the last Fly knew, and no wait moves it.
        if (next && next !== "poll" && statusOf(m.state) === "unknown" && !hostUnreachable(m)) {
          const waitS = Math.min(this.waitTimeoutS, OBSERVE_WAIT_S);
          await waitOrRead(() => client.wait(cfg.app, cfg.machineId, next, waitS, m.instance_id, cut));
          m = await client.getMachine(cfg.app, cfg.machineId, cut);
        }
        // `started` on a host Fly cannot reach (or whose status it does not know) is the last state
        // Fly knew, not a running machine. (One Fly knew stopped, or destroying as it marks those
        // of a dead host, runs nothing still.)
        const o = this.observation(cfg, m.state, m.instance_id);
        if (o.status === "running" && hostUnconfirmed(m)) o.status = "unknown";
        return o;
      }),
    );
  }

  /**
   * Runs `fn`, answering for a machine Fly no longer knows (404 `machine not found`, as it answers
   * some time after a machine was destroyed): nothing runs there, so it is `destroyed`, stopped.
   * Another 404 (`app not found`, a wrong base URL's page) says nothing of the machine: a failure.
   */
  private async unlessGone(cfg: FlyConfig, fn: () => Promise<Observation>): Promise<Observation> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FlyApiError && e.machineNotFound) return this.observation(cfg, "destroyed");
      throw e;
    }
  }

  /** `stop` stops the machine (it is not destroyed); `keep` leaves it as it is. */
  async release(t: DriverTarget, mode: Release): Promise<void> {
    if (mode !== "stop") return;
    const stop = this.command(t, "stop", undefined, true);
    const through = stop.then(
      () => true,
      () => false,
    );
    for (const releases of this.watching.get(machineOf(t.config)) ?? []) releases.push(through);
    await stop;
  }

  /** Fly pushes nothing to Vigil; changes made elsewhere show up when the governor observes. */
  onObservation(): void {}

  async close(): Promise<void> {}

  private prepare(t: DriverTarget): { cfg: FlyConfig; client: FlyClient } {
    const parsed = flyConfigSchema.safeParse(t.config ?? {});
    if (!parsed.success) {
      const problems = zodProblems(parsed.error).map((p) => `${p.path}: ${p.message}`);
      throw new DriverError(`fly: invalid config: ${problems.join("; ")}`, false);
    }
    // A config stored before the list changed (or never PUT) is checked again here.
    const refusal = apiUrlRefusal(parsed.data.apiUrl, this.apiUrls);
    if (refusal) throw new DriverError(`fly: ${refusal}`, false);
    // Said in a decision's note and a refused DELETE's detail: an operator's words, not the constructor's.
    if (!this.token) throw new DriverError("fly: no API token: set FLY_API_TOKEN in the server's environment", false);
    // Sent as a header, which fetch refuses quoting it whole: never tried, and never shown.
    if (!isHeaderSafe(this.token))
      throw new DriverError(
        "fly: the API token has a line break or a control character (its value is not shown)",
        false,
      );
    const cfg = parsed.data;
    const client = new FlyClient({
      apiUrl: cfg.apiUrl ?? DEFAULT_FLY_API_URL,
      apiUrls: [...this.apiUrls],
      token: this.token,
      fetch: this.fetch,
      clock: this.clock,
      random: this.random,
      retry: this.retry,
      limiter: this.limiter,
    });
    return { cfg, client };
  }

  /**
   * `share` (a release's stop): while a command of this driver holds the machine's lease (a start
   * with Fly), the stop shares it (lease.ts) instead of meeting it as another holder's.
   */
  private async command(t: DriverTarget, goal: Goal, released = () => false, share = false): Promise<Observation> {
    const { cfg, client } = this.prepare(t);
    // A stop or a suspend of a machine Fly no longer knows is done, as of a destroyed one; a
    // start of it fails (a wrong id is a 404 too).
    const attempt = goal === "start" ? (fn: () => Promise<Observation>) => fn() : this.unlessGone.bind(this, cfg);
    return this.guard(goal, cfg, () =>
      attempt(async () => {
        const leased = cfg.lease ?? this.useLeases;
        const held = leased
          ? await this.leases.acquire(client, cfg, this.leaseTtlS, machineKey(cfg), t.objectId, share)
          : null;
        try {
          if (held) held.lease.at ??= this.clock.now();
          const run = this.run(client, cfg, goal, held?.lease ?? {}, released, !share);
          // A 412 (still `created`, being replaced, in motion) means: read again after a backoff.
          return await withRetries(
            () => this.converge(run),
            (e) => ({ retry: e instanceof FlyApiError && e.status === 412 }),
            { clock: this.clock, random: this.random, policy: this.retry },
          );
        } finally {
          if (held) await this.leases.leave(held, client, cfg);
        }
      }),
    );
  }

  /** A command's state over its rounds, with the lease it holds or shares, if any. */
  private run(
    client: FlyClient,
    cfg: FlyConfig,
    goal: Goal,
    lease: Run["lease"],
    released: () => boolean,
    graced: boolean,
  ): Run {
    const extend = async () => {
      lease.held = await client.lease(cfg.app, cfg.machineId, this.leaseTtlS, lease.held!);
      lease.at = this.clock.now();
    };
    return {
      client,
      cfg,
      goal,
      lease,
      released,
      renew: async () => {
        if (lease.held && this.clock.now() - (lease.at ?? 0) > this.leaseTtlS * 1000 - phaseMs(this.limits))
          await extend();
      },
      keep: async () => {
        if (lease.held && this.clock.now() - (lease.at ?? 0) >= (this.leaseTtlS * 1000) / 2) await extend();
      },
      spent: { waits: 0, reads: 0 },
      // A release's stop (a DELETE's, a rebind's) answers a request that holds the object: it
      // keeps to the waits, and a machine still stopping is a 503 to send again, not hours held.
      stopping: graced
        ? { graceMs: (cfg.stopTimeout === undefined ? undefined : goDurationMs(cfg.stopTimeout)) ?? 0 }
        : null,
    };
  }

  /**
   * One round: read, command unless already there, wait for the state. The lease is extended
   * before each phase that may wait when it no longer covers a whole phase (so not just after it
   * was taken), and within a phase once half its time has gone.
   */
  private async converge(run: Run): Promise<Observation> {
    const { client, cfg, goal } = run;
    await run.renew();
    const m = await settled(run, this.limits);
    // A start is confirmed only by a machine on a host Fly vouches for: `started` on one it
    // cannot reach, or whose status it does not know, is the last state Fly knew, not a running
    // machine. Retryable: the host may come back.
    if (goal === "start" && m.state === "started" && hostUnconfirmed(m))
      throw new DriverError(
        m.host_status === "unknown"
          ? "Fly does not know the status of the machine's host (Fly's host_status unknown): its state started is not confirmed"
          : "the machine's host is unreachable (Fly's host_status): its state started is not current",
        true,
      );
    // A stopped machine has nothing resident to suspend; it is already as dormant as it gets.
    if (satisfies(goal, m.state)) return this.observation(cfg, m.state, m.instance_id);
    if (isGone(m.state)) throw new DriverError(`machine is ${m.state}`, false);
    // A command for a machine on a host Fly cannot reach cannot reach it either: sent, it would
    // only be refused (5 tries and their backoff) with Fly's words. Retryable: the host may come back.
    if (hostUnreachable(m))
      throw new DriverError(
        `the machine's host is unreachable (Fly's host_status), so it cannot ${goal} the machine (last known ${m.state}) until Fly reaches the host again`,
        true,
      );
    if (!SETTLED.has(m.state)) throw new FlyApiError(412, `machine is ${m.state}`);
    await run.renew();
    const nonce = run.lease.held?.nonce;
    // Retryable: should the release fail, the start was never refused (start() decides).
    if (goal === "start" && run.released())
      throw new DriverError("fly: a release of the machine began; the start was not sent", true);
    if (goal === "start") await client.start(cfg.app, cfg.machineId, nonce);
    else if (goal === "suspend") await client.suspend(cfg.app, cfg.machineId, nonce);
    else await client.stop(cfg.app, cfg.machineId, stopBody(cfg), nonce);
    // The instance as last seen: an update during the wait made the machine another.
    const instanceId = await reach(run, this.limits, GOAL_STATE[goal], m.instance_id);
    return this.observation(cfg, GOAL_STATE[goal], instanceId);
  }

  private observation(cfg: FlyConfig, state: string, instanceId?: string): Observation {
    const o: Observation = { status: statusOf(state), at: this.clock.now(), machineId: cfg.machineId, state };
    if (instanceId) o.instanceId = instanceId;
    return o;
  }

  /** Every failure leaves as a DriverError naming the call and the machine. */
  private async guard<T>(what: string, cfg: FlyConfig, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const where = `fly ${what} ${cfg.app}/${cfg.machineId}`;
      if (e instanceof DriverError) throw new DriverError(`${where}: ${e.message}`, e.retryable, e.retryAfterMs);
      if (e instanceof FlyApiError)
        throw new DriverError(`${where}: ${e.message}`, e.status === 412 || e.retryable, e.retryAfterMs);
      throw new DriverError(`${where}: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }
}

/** The stop request's body, when the config asks for a signal or timeout; none otherwise. */
function stopBody(cfg: FlyConfig): StopBody | undefined {
  if (cfg.stopSignal === undefined && cfg.stopTimeout === undefined) return undefined;
  const body: StopBody = {};
  if (cfg.stopSignal !== undefined) body.signal = cfg.stopSignal;
  if (cfg.stopTimeout !== undefined) body.timeout = cfg.stopTimeout;
  return body;
}
