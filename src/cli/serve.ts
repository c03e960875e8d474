// `vigil serve`: configuration from the environment and flags, then the server until a signal.

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { startServer } from "../main.ts";

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      db: { type: "string" },
      rules: { type: "string" },
    },
    strict: true,
  });
  const overrides: Record<string, string> = {};
  if (values.host) overrides.VIGIL_HOST = values.host;
  if (values.port) overrides.VIGIL_PORT = values.port;
  if (values.db) overrides.VIGIL_DB_URL = values.db;
  if (values.rules) overrides.VIGIL_RULES_DIR = values.rules;
  const config = loadConfig(process.env, overrides);
  const log = createLogger(config.VIGIL_LOG_LEVEL);
  let server;
  try {
    server = await startServer(config, log);
  } catch (e) {
    log.error("cannot start", { error: (e as Error).message });
    return 1;
  }
  process.stdout.write(`vigil listening on ${server.url}\n`);
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
