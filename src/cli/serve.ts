// `vigil serve`: configuration from the environment and flags, then the server until a signal.

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { npmProcess, watchProcess } from "./parent.ts";
import { HELP_OPTION, printUsage } from "./usage.ts";

export async function runServe(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values } = parseArgs({
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
  if (values.host) overrides.VIGIL_HOST = values.host;
  if (values.port) overrides.VIGIL_PORT = values.port;
  if (values.db) overrides.VIGIL_DB_URL = values.db;
  if (values.rules) overrides.VIGIL_RULES_DIR = values.rules;
  const config = loadConfig(process.env, overrides);
  const log = createLogger(config.VIGIL_LOG_LEVEL);
  // Loaded here, not above: `vigil serve --help` loads neither the server, the database nor hono.
  const { startServer } = await import("../main.ts");
  // A fatal condition before the signal handlers below are set (a lost lease right away).
  let fatal: ((reason: string) => void) | null = null;
  let server;
  try {
    server = await startServer(config, log, { onFatal: (reason) => fatal?.(reason) });
  } catch (e) {
    log.error("cannot start", { error: (e as Error).message });
    return 1;
  }
  const running = server;
  out(`vigil listening on ${running.url}\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string, code: number) => {
      if (stopping) return;
      stopping = true;
      log.info("shutting down", { reason: why });
      void running.close().then(
        (drained) => resolve(drained ? code : 1),
        () => resolve(1),
      );
    };
    fatal = (reason) => stop(reason, 1);
    process.once("SIGINT", () => stop("SIGINT", 0));
    process.once("SIGTERM", () => stop("SIGTERM", 0));
    // Run by `npm start`: when npm itself is killed, this server must not run on unattended.
    const npm = npmProcess();
    if (npm !== null) watchProcess(npm, () => stop("npm, which started this server, is gone", 0));
  });
}
