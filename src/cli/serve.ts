// `vigil serve`: configuration from the environment and flags, then the server until a signal.

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
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
  let server;
  try {
    server = await startServer(config, log);
  } catch (e) {
    log.error("cannot start", { error: (e as Error).message });
    return 1;
  }
  out(`vigil listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info("shutting down", { signal });
      void server.close().then(resolve, resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}
