// Real servers (startServer) on a libsql file in a directory of their own, with a copy of the
// example rules in `rules/` to edit or delete between starts: for tests of what a start makes of
// the rules directory and the database it finds. Everything is closed and removed after each test.

import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/main.ts";
import { RULES_DIR } from "./services.ts";

export interface RulesServers {
  /** A new directory holding `rules/`, a copy of the example rules. */
  workDir(): string;
  /** A server on `dir`'s `vigil.db` and `rules/`, its log lines pushed to `lines`. */
  serve(dir: string, lines?: string[]): Promise<RunningServer>;
  /** Closes the newest server still running. */
  closeLast(): Promise<void>;
}

/** Call at the top of a test file: its servers and directories go after each test. */
export function rulesServers(prefix: string): RulesServers {
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    workDir() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      cpSync(RULES_DIR, join(dir, "rules"), { recursive: true });
      return dir;
    },
    async serve(dir, lines = []) {
      const config = loadConfig({
        VIGIL_DB_URL: `file:${join(dir, "vigil.db")}`,
        VIGIL_PORT: "0",
        VIGIL_HOST: "127.0.0.1",
        VIGIL_RECONCILE_INTERVAL: "off",
        VIGIL_RULES_DIR: join(dir, "rules"),
      });
      const server = await startServer(
        config,
        createLogger("info", (l) => void lines.push(l)),
      );
      servers.push(server);
      return server;
    },
    async closeLast() {
      await servers.pop()?.close();
    },
  };
}
