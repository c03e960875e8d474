// The composition root: configuration in, a running server out. The only place that knows
// every concrete part (libsql store, drivers, system clock, hono on node).
//
// The file is past 400 lines because start-up and shutdown are one sequence over every part:
// what was started is stopped in reverse when a later step fails, and each failure is told once.

import type { Server } from "node:http";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute } from "node:path";
import { expandConfig } from "@libsql/core/config";
import {
  enabledDrivers,
  flyApiUrls,
  InvalidConfiguration,
  ipv4Mapped,
  ipv6Written,
  loopbackBindAddress,
  shownDbUrl,
  shownQuotes,
  type Config,
  type DriverName,
} from "./config.ts";
import { DEFAULT_LIMITS } from "./core/memory-limits.ts";
import { Governor } from "./governor/governor.ts";
import type { GovernorEvents } from "./governor/events.ts";
import { fenced } from "./governor/fence.ts";
import { serverLease } from "./governor/lease.ts";
import { PolicyRegistry, type LoadResult } from "./governor/policy-registry.ts";
import { PolicyWatcher, reloadLines, unloadedPolicyLines, warningLines } from "./governor/policy-watcher.ts";
import { Retention } from "./governor/retention.ts";
import { Reconciler } from "./governor/reconciler.ts";
import { durationMs } from "./core/durations.ts";
import { makeDirs, notAFilePath } from "./dirs.ts";
import { withAccessLog } from "./http/access-log.ts";
import { createApp, DEFAULT_BODY_LIMIT } from "./http/app.ts";
import { factsFastPath } from "./http/fast-path.ts";
import { honoListener, httpServer } from "./http/node-server.ts";
import { DryRunSlots } from "./http/dry-run-slots.ts";
import { DrainGate } from "./http/gate.ts";
import { endEventStreams } from "./http/sse.ts";
import { Metrics } from "./http/metrics.ts";
import { parseTokens, type TokenConfig } from "./http/auth.ts";
import { errorText, type Logger } from "./log.ts";
import { LibsqlStore, libsqlOptions } from "./storage/libsql-store.ts";
import { filePath } from "./storage/rows.ts";
import { databaseStartError, interruptible } from "./storage/remote.ts";
import type { Driver } from "./substrate/driver.ts";
import { FlyDriver } from "./substrate/fly/driver.ts";
import { findCgroupParent, openCgroupParent, type CgroupParent } from "./substrate/process/cgroup.ts";
import { ProcessDriver } from "./substrate/process/driver.ts";
import { ORPHANS_AT_PID1 } from "./substrate/process/spawn.ts";
import { SimulatedDriver } from "./substrate/simulated/driver.ts";
import { SystemClock } from "./timers/clock.ts";
import { WhatIf } from "./what-if/service.ts";

export interface RunningServer {
  url: string;
  governor: Governor;
  /** The slots of dry runs, replays and validations (the tests watch them). */
  dryRuns: DryRunSlots;
  /**
   * Graceful shutdown: refuses new requests, lets those in flight finish and commit, stops
   * everything. Resolves true when that took less than VIGIL_DRAIN_TIMEOUT.
   */
  close(): Promise<boolean>;
}

/**
 * What to do about a listen's failure, for the codes a person meets: the quick start's port 8080
 * is often another program's, and `cannot listen on 127.0.0.1:8080: EADDRINUSE` said nothing of
 * how to serve on another.
 */
const LISTEN_ADVICE: Record<string, string> = {
  EADDRINUSE: "another program holds the port: stop it, or choose another port with VIGIL_PORT or --port",
  EADDRNOTAVAIL: "no interface of this machine has that address: choose another with VIGIL_HOST or --host",
};

/** Binds the server; a port that cannot be bound is an error naming it, not a log line. */
function listen(http: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // An IPv6 address is bracketed, as in a URL: `::1:8080` reads as another address.
    const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    http.once("error", (e: NodeJS.ErrnoException) => {
      const advice = e.code === undefined ? undefined : LISTEN_ADVICE[e.code];
      reject(new Error(`cannot listen on ${where}: ${e.code ?? e.message}${advice ? ` (${advice})` : ""}`));
    });
    http.listen(port, host, () => {
      const address = http.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/**
 * After a drain that overran VIGIL_DRAIN_TIMEOUT and cut the connections, how long the rest of the
 * shutdown (scheduler, drivers, database, the lease's release) may take before the process exits
 * all the same.
 */
const CLOSE_AFTER_CUT_MS = 5_000;

/**
 * The most of the database's refusals held until recovery is done (startServer) that are kept;
 * the rest are counted. Every object's adoption may be refused: a large fleet held one each.
 */
export const HELD_ERRORS = 100;

/** Whether `work` settled within `ms` (it goes on either way). */
function deadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        resolve(true);
      });
  });
}

/**
 * Makes sure the directory of a `file:` database exists, and that this user may write it and
 * the file (libsql itself says only "Unable to open connection ...: 14").
 */
function prepareDatabase(url: string): void {
  // The URL as libsql reads it, before anything is made for it: a parameter it takes for no file
  // (`?mode=ro`) or a fragment was refused only when the client opened, its directory made.
  try {
    expandConfig({ url }, false);
  } catch (e) {
    throw urlRefusal(url, e);
  }
  // The path as libsql reads it (percent-decoded).
  const path = filePath(url);
  if (path === null) return;
  // Only a shell expands `~` and `~user` (and in an assignment, `VIGIL_DB_URL=file:~/x.db`, bash
  // does): from a unit file or an env file it reached here as is, and a directory named `~` (or
  // `~vigil`) was made in the working directory, the database in it.
  if (path.startsWith("~")) {
    const user = /^~([^/]*)/.exec(path)![1];
    const home =
      user === "" ? `file:${homedir()}${path.slice(1)}` : `the home directory of ${user} in place of ~${user}`;
    throw new InvalidConfiguration([
      `VIGIL_DB_URL: ${path} starts with ~, which is not expanded here: write the directory's path (${home}), or ./${path} for a name that starts with ~`,
    ]);
  }
  const wrong = notAFilePath(path);
  if (wrong !== null) throw new InvalidConfiguration([`VIGIL_DB_URL: ${wrong}`]);
  try {
    makeDirs(dirname(path));
  } catch (e) {
    throw new Error(`cannot create the database directory ${dirname(path)} (${(e as NodeJS.ErrnoException).code})`);
  }
  for (const [what, target, mode] of [
    // SQLite creates its journal files beside the database: the directory is written and searched.
    ["directory", dirname(path), constants.W_OK | constants.X_OK],
    ["file", path, constants.R_OK | constants.W_OK],
  ] as const) {
    try {
      accessSync(target, mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue; // the file: libsql creates it
      throw new Error(
        `cannot write the database ${what} ${target} (${code}): it must be writable by uid ${process.getuid?.() ?? "?"}`,
      );
    }
  }
}

/** The store for VIGIL_DB_URL; a URL libsql cannot take (its form, scheme, parameters) is a bad value. */
function openStore(config: Config): LibsqlStore {
  try {
    return new LibsqlStore(libsqlOptions(config.VIGIL_DB_URL, config.VIGIL_DB_AUTH_TOKEN));
  } catch (e) {
    throw urlRefusal(config.VIGIL_DB_URL, e);
  }
}

/** libsql's refusal of a URL as a bad value of VIGIL_DB_URL; any other error as it is. */
function urlRefusal(url: string, e: unknown): unknown {
  const code = String((e as { code?: unknown }).code);
  if (code.startsWith("URL_"))
    return new InvalidConfiguration([`VIGIL_DB_URL: ${shownQuotes(url, (e as Error).message)}`]);
  // Node's own parse refused it (`libsql://`, `http://`: no host), and says only "Invalid URL".
  if (code === "ERR_INVALID_URL")
    return new InvalidConfiguration([
      `VIGIL_DB_URL: ${shownDbUrl(url)} is not a URL (a remote database needs a host: libsql://HOST)`,
    ]);
  return e;
}

/** The parent cgroup of VIGIL_PROCESS_CGROUP, or null (`off`: process groups only). */
function processCgroup(setting: string): CgroupParent | null {
  if (setting === "off") return null;
  if (setting === "auto") {
    const found = findCgroupParent();
    if (!found)
      throw new Error(
        "VIGIL_PROCESS_CGROUP=auto: no writable cgroup v2 hierarchy nor v1 freezer was found; set it to off, or to a cgroup directory this user may write",
      );
    return found;
  }
  try {
    return openCgroupParent(setting);
  } catch (e) {
    // A directory named that is not a cgroup this user may use: a bad value (exit 2).
    throw new InvalidConfiguration([`VIGIL_PROCESS_CGROUP: ${(e as Error).message}`]);
  }
}

export interface StartOptions {
  /** Told when the server can no longer govern (the lease is lost): it must shut down. */
  onFatal?: (reason: string) => void;
  /**
   * Aborted (by a signal) during start-up: start-up stops at recovery's next step (or before it
   * begins), closes what it had opened (the lease is released) and rejects with the reason. A
   * remote database's round trips in flight are cut at once instead (a server that does not
   * answer): then a lease already taken is not released.
   */
  signal?: AbortSignal;
}

/**
 * The policies of VIGIL_RULES_DIR; a directory that is missing, not one, or unreadable is a bad
 * value. A relative one (the default `rules` among them) is read from the working directory,
 * which the message names: `vigil serve` run from elsewhere than the repository's root said only
 * `VIGIL_RULES_DIR: rules does not exist`, to a user who had set no VIGIL_RULES_DIR.
 */
function loadRules(policies: PolicyRegistry, dir: string, loaded: (file: string, r: LoadResult) => void) {
  try {
    return policies.loadDirectory(dir, loaded);
  } catch (e) {
    const { code, syscall } = e as NodeJS.ErrnoException;
    if (syscall !== "scandir") throw e;
    const what: Record<string, string> = { ENOENT: "does not exist", ENOTDIR: "is not a directory" };
    const where = isAbsolute(dir) ? "" : ` (a relative path, read from the working directory ${process.cwd()})`;
    throw new InvalidConfiguration([
      `VIGIL_RULES_DIR: ${dir} ${what[code ?? ""] ?? `cannot be read (${code})`}${where}`,
    ]);
  }
}

/** The tokens of VIGIL_TOKENS; one it cannot read is a bad value of the configuration. */
function configuredTokens(text: string): TokenConfig[] {
  try {
    return parseTokens(text);
  } catch (e) {
    throw new InvalidConfiguration([(e as Error).message]);
  }
}

/**
 * The governor's events an operator reads in the log, each at `warn` but a return to readiness:
 * what the readiness probes found when it changes (their own lines are at debug), an action the
 * substrate refused for good, and a crash loop, which makes its object `failed` as that does.
 */
export function logGovernorEvents(events: GovernorEvents, log: Logger): void {
  events.on("readiness:changed", (why) =>
    why === null ? log.info("ready again") : log.warn("not ready", { reason: why }),
  );
  events.on("action:failed", (a, error) => log.warn("action failed", { object: a.objectId, kind: a.kind, error }));
  events.on("decision:recorded", (d) => {
    if (d.trigger.kind === "substrate" && d.trigger.name === "crash-loop")
      log.warn("crash loop", { object: d.objectId, note: d.notes[0] });
  });
}

export async function startServer(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningServer> {
  options.signal?.throwIfAborted();
  const tokens = configuredTokens(config.VIGIL_TOKENS);
  // Without tokens, the address checked is the address bound (a name resolved once, here).
  const bindAddress = tokens.length === 0 ? await loopbackBindAddress(config.VIGIL_HOST) : config.VIGIL_HOST;
  if (tokens.length === 0) {
    log.warn(
      "no tokens configured: binding loopback only; requests to a loopback host name are allowed without a token",
      {
        host: config.VIGIL_HOST,
      },
    );
  }
  const drivers = enabledDrivers(config, tokens.length > 0);
  log.info("drivers enabled", { drivers });
  if (drivers.includes("process") && process.pid === 1) log.warn(ORPHANS_AT_PID1);
  const cgroup = drivers.includes("process") ? processCgroup(config.VIGIL_PROCESS_CGROUP) : null;
  if (cgroup) log.info("process trees are held in cgroups", { parent: cgroup.dir, version: cgroup.version });
  const clock = new SystemClock();
  const policies = new PolicyRegistry(() => clock.now());
  // A policy's warnings (validation's) are logged as a reload's are; its refusal just below.
  const warnings = (file: string, r: LoadResult) => {
    if (r.ok) for (const line of warningLines(file, r)) log[line.level](line.msg, line.fields);
  };
  for (const e of loadRules(policies, config.VIGIL_RULES_DIR, warnings)) {
    for (const p of e.errors) log.error("policy refused", { file: e.file, path: p.path, error: p.message });
  }
  const loaded = policies.list().items;
  log.info("policies loaded", { dir: config.VIGIL_RULES_DIR, policies: loaded.map((p) => `${p.name}@${p.version}`) });
  prepareDatabase(config.VIGIL_DB_URL);
  const store = openStore(config);

  const driverFactories: Record<DriverName, () => Driver> = {
    simulated: () => new SimulatedDriver({ clock }),
    process: () => new ProcessDriver({ clock, cgroup }),
    fly: () => {
      try {
        return new FlyDriver({
          clock,
          apiUrls: flyApiUrls(config),
          ...(config.FLY_API_TOKEN ? { token: config.FLY_API_TOKEN } : {}),
        });
      } catch (e) {
        // The driver's own check of each URL is stricter than the configuration's pattern.
        if (e instanceof RangeError)
          throw new InvalidConfiguration([`VIGIL_FLY_API_URLS: ${e.message.replace(/^apiUrls: /, "")}`]);
        throw e;
      }
    },
  };
  const governor = new Governor({
    store,
    policies,
    clock,
    // Only the drivers objects may bind to (VIGIL_DRIVERS); a PUT naming another is a 422.
    drivers: drivers.map((name) => driverFactories[name]()),
    limits: { ...DEFAULT_LIMITS, maxMemoryBytes: config.VIGIL_MEMORY_LIMIT },
    hotObjects: config.VIGIL_HOT_OBJECTS,
    mailboxLimit: config.VIGIL_MAILBOX_LIMIT,
    lease: serverLease(log, options.signal, () => options.onFatal?.("the governing lease was lost")),
  });
  const governorError = (e: Error, context: string) => log.error("governor error", { context, error: errorText(e) });
  // Until recovery is done, a refusal by the database file (the disk full) is held: start-up
  // then fails of the same refusal, and its one `cannot start` line names the file and what to
  // do, where a raw line of SQLite's words came first. Told as before if start-up goes on. The
  // first HELD_ERRORS are kept and the rest counted: each object's adoption may be refused.
  let held: { errors: [Error, string][]; more: number } | null = { errors: [], more: 0 };
  const fileRefusal = (e: Error) => "failed" in (databaseStartError(e, config.VIGIL_DB_URL, "") ?? {});
  const tellHeld = () => {
    if (held === null) return;
    for (const [e, context] of held.errors.splice(0)) governorError(e, context);
    if (held.more > 0) log.error("more governor errors during recovery, not shown", { count: held.more });
    held.more = 0;
  };
  governor.events.on("governor:error", (e, context) => {
    if (held === null || !fileRefusal(e)) governorError(e, context);
    else if (held.errors.length < HELD_ERRORS) held.errors.push([e, context]);
    else held.more++;
  });
  logGovernorEvents(governor.events, log);
  // Before start, so that what recovery evaluates and fires is counted too.
  const metrics = new Metrics(governor);
  // What has been started, stopped in reverse order when start-up fails half-way or at shutdown.
  const started: (() => Promise<void> | void)[] = [() => store.close()];
  // Every step runs, whatever failed before it (the lease's release refused on a full disk left
  // the database and the listener open); the first failure is thrown once all have run.
  const stopAll = async () => {
    const failures: unknown[] = [];
    for (const stop of started.splice(0).reverse())
      await Promise.resolve(stop()).catch((e: unknown) => failures.push(e));
    if (failures.length > 0) throw failures[0];
  };
  try {
    // A signal meanwhile stops recovery at its next step (governor.ts), and cuts a remote
    // server's round trips in flight: start-up stops at once.
    await interruptible(() => governor.start(options.signal), options.signal, store.interrupt);
    tellHeld();
    held = null;
    started.push(() => governor.close());
    // A signal during recovery: what was opened closes below, and the lease is released.
    options.signal?.throwIfAborted();
    for (const line of unloadedPolicyLines(governor.censusRows(), policies)) log[line.level](line.msg, line.fields);
    const window = (v: string) => (v === "forever" ? null : durationMs(v));
    const retention = new Retention(
      // A run under way when the lease is lost writes no more (governor/fence.ts).
      fenced(store, governor.governs),
      clock,
      {
        journalMs: window(config.VIGIL_JOURNAL_RETENTION),
        decisionsMs: window(config.VIGIL_DECISION_RETENTION),
        decisionsPerObject: config.VIGIL_DECISIONS_PER_OBJECT === 0 ? null : config.VIGIL_DECISIONS_PER_OBJECT,
        idempotencyMs: durationMs(config.VIGIL_IDEMPOTENCY_TTL),
      },
      (e) => log.error("retention failed", { error: errorText(e) }),
      (id, task) => governor.exclusive(id, task),
    );
    retention.start();
    started.push(() => retention.stop());
    if (config.VIGIL_RECONCILE_INTERVAL !== "off") {
      const reconciler = new Reconciler(
        (signal) => governor.reconcile(signal),
        clock,
        durationMs(config.VIGIL_RECONCILE_INTERVAL),
        (e) => log.error("reconciliation failed", { error: errorText(e) }),
      );
      reconciler.start();
      started.push(() => reconciler.stop());
    }
    // After a reload, the version that serves now is recorded, then the policy's objects re-armed.
    const afterReload = (name: string) => governor.recordServed(name).then(() => governor.armSchedules(name));
    const watcher = new PolicyWatcher(config.VIGIL_RULES_DIR, policies, afterReload, clock, {
      reloaded: (file, r, previous) => {
        for (const line of reloadLines(file, r, previous)) log[line.level](line.msg, line.fields);
      },
      failed: (error) =>
        log.error("watching the rules directory failed; edits are loaded again once it can be read", {
          dir: config.VIGIL_RULES_DIR,
          error: error.message,
        }),
    });
    watcher.start();
    started.push(() => watcher.close());

    const report = (e: unknown, method: string, path: string) =>
      log.error("request failed", { method, path, error: errorText(e) });
    const dryRuns = new DryRunSlots();
    const app = createApp({
      governor,
      policies,
      whatIf: new WhatIf(store, (id) => governor.getObject(id)),
      tokens,
      bodyLimitBytes: config.VIGIL_BODY_LIMIT,
      onInternalError: report,
      metrics,
      metricsPublic: config.VIGIL_METRICS_PUBLIC,
      maxStreams: config.VIGIL_MAX_STREAMS,
      dryRuns,
    });
    // The hottest routes (facts, PUT) are answered on the fast path; every other request goes to the hono app.
    const fast = factsFastPath({
      governor,
      policies,
      tokens,
      bodyLimitBytes: config.VIGIL_BODY_LIMIT ?? DEFAULT_BODY_LIMIT,
      report,
    });
    const hono = honoListener(app, (e) => log.error("request failed", { error: errorText(e) }), tokens.length === 0);
    const gate = new DrainGate();
    // Request ids and access lines for every request, whichever door answers it.
    const http: Server = httpServer(
      (req, res) => {
        if (gate.admit(req, res) && !fast(req, res)) void hono(req, res);
      },
      (inner) => withAccessLog(inner, { log, tokens }),
    );
    const port = await listen(http, config.VIGIL_PORT, bindAddress);
    // `::ffff:127.0.0.1` is told as 127.0.0.1, which reaches it: a Host of `[::ffff:7f00:1]` is
    // not a loopback name (loopback.ts), and not written as a URL writes `[::ffff:127.0.0.1]`.
    // An IPv6 address is told as a URL writes it (`[::1]` for `0:0:0:0:0:0:0:1`): a client that
    // sends the Host as written in the URL it was given would get a 400 for another writing.
    const named = ipv4Mapped(config.VIGIL_HOST) ?? ipv6Written(config.VIGIL_HOST) ?? config.VIGIL_HOST;
    const host = named.includes(":") ? `[${named}]` : named;
    const url = `http://${host}:${port}`;
    log.info("listening", {
      url,
      db: shownDbUrl(config.VIGIL_DB_URL),
      auth: tokens.length > 0 ? "bearer tokens" : "off (loopback only)",
    });

    const drainMs = durationMs(config.VIGIL_DRAIN_TIMEOUT);
    let closing: Promise<boolean> | null = null;
    const close = (): Promise<boolean> =>
      (closing ??= (async () => {
        // New requests get a 503 (and /readyz too); those inside finish and their arrivals
        // commit; then everything stops. Past the drain timeout, open connections are cut.
        // Event streams never end by themselves: they end now, and their clients reconnect elsewhere.
        endEventStreams(governor);
        // Dry runs waiting their turn (up to 5 s each, behind each other) are a 503 now, not run.
        dryRuns.close();
        let waitingFor = "requests in flight";
        const served = gate.close().then(async () => {
          waitingFor = "the scheduler, drivers and database to close";
          try {
            await stopAll();
          } finally {
            await new Promise<void>((resolve) => {
              http.close(() => resolve());
              http.closeAllConnections();
            });
          }
        });
        const stopped = served.catch((e: unknown) => log.error("shutdown failed", { error: errorText(e) }));
        const drained = await deadline(stopped, drainMs);
        if (!drained) {
          log.error("drain timed out; stopping with work in flight", {
            timeoutMs: drainMs,
            waitingFor,
            requests: gate.active,
          });
          // The requests still inside end with their connections; then the scheduler, drivers
          // and database close and the lease is released as after a drain (a replacement must
          // not wait for the lease to run out), within a bound of their own.
          http.closeAllConnections();
          if (!(await deadline(stopped, CLOSE_AFTER_CUT_MS)))
            log.error("shutdown did not finish after the connections were cut", { timeoutMs: CLOSE_AFTER_CUT_MS });
        }
        return drained;
      })());
    return { url, governor, dryRuns, close };
  } catch (e) {
    // What start-up failed of is the error to tell; a failure to close after it is told too,
    // unless it is the same refusal by the database file (the disk full), which that line says.
    await stopAll().catch((closing: unknown) => {
      if (!(closing instanceof Error && fileRefusal(closing)))
        log.error("closing after the failed start-up failed", { error: errorText(closing) });
    });
    // VIGIL_DB_URL names the wrong file, or a remote server that cannot be reached (storage/remote.ts).
    const wrong = databaseStartError(e, config.VIGIL_DB_URL, shownDbUrl(config.VIGIL_DB_URL));
    // The refusals held are told, unless start-up fails of one: its line then says it.
    if (options.signal?.aborted || wrong === null || "invalid" in wrong) tellHeld();
    // A signal cut start-up short: whatever failed of it then, it stopped as asked.
    if (options.signal?.aborted) throw options.signal.reason;
    if (wrong === null) throw e;
    throw "invalid" in wrong ? new InvalidConfiguration([wrong.invalid]) : new Error(wrong.failed);
  }
}
