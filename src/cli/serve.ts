// `vigil serve`: configuration from the environment and flags, then the server until a signal.

import { parseCommandLine } from "./parse-args.ts";
import { InvalidConfiguration } from "../config.ts";
import { createLogger, errorText, type Logger } from "../log.ts";
import { configWithFlags, FLAGS, inFlagTerms } from "./flag-config.ts";
import { npmProcess, watchProcess } from "./parent.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";

export async function runServe(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values } = parseCommandLine({
    args,
    options: {
      ...HELP_OPTION,
      host: { type: "string" },
      port: { type: "string" },
      db: { type: "string" },
      rules: { type: "string" },
    },
    strict: true,
  });
  if (values.help) return printUsage("serve", out);
  const overrides: Record<string, string> = {};
  for (const [flag, variable] of Object.entries(FLAGS)) {
    const value = values[flag as keyof typeof FLAGS];
    if (value !== undefined) overrides[variable] = value;
  }
  const config = configWithFlags(overrides);
  const log = createLogger(config.VIGIL_LOG_LEVEL);
  // Signals are handled from here on: one during start-up stops it once recovery is done (what
  // it had opened closes, the lease is released) and exits 0, as a drain does.
  const starting = new AbortController();
  let stopping = false;
  let code = 0;
  let close: (() => void) | null = null; // once the server is up
  const stop = (why: string, exit: number) => {
    if (stopping) {
      // A second signal does not cut the drain short: VIGIL_DRAIN_TIMEOUT bounds it already.
      log.warn("already shutting down", { signal: why });
      return;
    }
    stopping = true;
    code = exit;
    log.info("shutting down", { reason: why });
    if (close) close();
    else starting.abort(new Error(`stopped during start-up: ${why}`));
  };
  process.on("SIGINT", () => stop("SIGINT", 0));
  process.on("SIGTERM", () => stop("SIGTERM", 0));
  // A closed terminal (or ssh session) sends SIGHUP to the server as well as to npm. Node's own
  // answer is to die on the spot: requests in flight cut, their writes maybe committed with no
  // reply, the lease left to run out. It drains as the other two do. (Node resets an ignored
  // SIGHUP at start, so `nohup` never kept a server running through it.)
  process.on("SIGHUP", () => stop("SIGHUP", 0));
  // One that came while the code loaded, which bin/vigil.js held.
  for (const signal of heldSignals()) stop(signal, 0);
  // Run by `npm start`: when npm itself is killed, this server must not run on unattended.
  const npm = npmProcess();
  if (npm !== null) watchProcess(npm, () => stop("npm, which started this server, is gone", 0));
  // Loaded here, not above: `vigil serve --help` loads neither the server, the database nor hono.
  const { startServer } = await import("../main.ts");
  // A fatal condition during start-up (a lease lost during recovery) is kept, and stops the
  // server as soon as it is up.
  let early: string | null = null;
  let server;
  try {
    server = await startServer(config, log, {
      signal: starting.signal,
      onFatal: (reason) => (close ? stop(reason, 1) : (early ??= reason)),
    });
  } catch (e) {
    if (starting.signal.aborted && e === starting.signal.reason) return code;
    // A bad value found only now (VIGIL_TOKENS, a URL libsql cannot take) is a usage error as
    // any other: exit 2, naming the flag it came from.
    if (e instanceof InvalidConfiguration) throw inFlagTerms(e, overrides);
    log.error("cannot start", { error: errorText(e) });
    // A log that writes no error line (VIGIL_LOG_LEVEL=silent) would leave the exit 1 unexplained.
    if (log.isLevelEnabled?.("error") === false) process.stderr.write(`vigil serve: cannot start: ${errorText(e)}\n`);
    return 1;
  }
  const running = server;
  warnOfBadPort(log, config.VIGIL_PORT);
  out(`vigil listening on ${running.url}\n`);
  return new Promise<number>((resolve) => {
    close = () =>
      void running.close().then(
        (drained) => resolve(drained ? code : 1),
        () => resolve(1),
      );
    // A signal after start-up's last look at it: the server stops as after any other.
    if (stopping) close();
    else if (early !== null) stop(early, 1);
  });
}

/** The signals bin/vigil.js held while the code loaded (none when run another way). */
function heldSignals(): string[] {
  return (process as { vigilHeldSignals?: () => string[] }).vigilHeldSignals?.() ?? [];
}

/**
 * The ports the Fetch standard blocks (its "bad ports"): fetch, and so every `vigil` client
 * command and every browser (the dashboard), refuses to connect to them, while curl and other
 * clients do. Node's fetch refuses each of these (test/cli/serve-bad-port.test.ts asks it).
 */
export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * A server on such a port starts, and serves curl, but neither the CLI nor a browser can reach
 * it: one warning line says so at start-up, rather than a refusal (other clients work).
 */
export function warnOfBadPort(log: Logger, port: number): void {
  if (FETCH_BAD_PORTS.has(port))
    log.warn(
      `port ${port} is one of the Fetch standard's bad ports: browsers (the dashboard) and the vigil client commands will not connect to it, curl and other clients will; use another port (--port or VIGIL_PORT)`,
      { port },
    );
}
