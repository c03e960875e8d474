// A rules directory, the services over it and a PolicyWatcher of it, for the hot-reload tests:
// each made by the test that needs it and closed (the watcher, then the services) and removed
// after each test.

import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Clock } from "../../src/core/clock.ts";
import { PolicyWatcher, type WatcherEvents } from "../../src/governor/policy-watcher.ts";
import { makeServices, RULES_DIR, type TestServices } from "./services.ts";

export interface WatchedRules {
  /** The services the test made with `services`. */
  readonly s: TestServices;
  /** The watcher the test made with `watch`. */
  readonly watcher: PolicyWatcher;
  /** A new directory named from `prefix`: a copy of the example rules, or empty if `copy` is false. */
  dir(prefix: string, copy?: boolean): string;
  /** The services (makeServices) over a rules directory. */
  services(opts: Parameters<typeof makeServices>[0]): Promise<TestServices>;
  /** A watcher of `dir` over the services' policies: after a reload, the version served recorded and the objects re-armed by their governor, unless `arm` is given. */
  watch(dir: string, clock: Clock, events: WatcherEvents, arm?: (policy: string) => Promise<unknown>): PolicyWatcher;
}

/** Call at the top of a test file. */
export function watchedRules(): WatchedRules {
  let s: TestServices | null = null;
  let watcher: PolicyWatcher | null = null;
  const dirs: string[] = [];
  afterEach(async () => {
    watcher?.close();
    watcher = null;
    await s?.close();
    s = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    get s() {
      if (!s) throw new Error("no services: call services() first");
      return s;
    },
    get watcher() {
      if (!watcher) throw new Error("no watcher: call watch() first");
      return watcher;
    },
    dir(prefix, copy = true) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      if (copy) cpSync(RULES_DIR, dir, { recursive: true });
      return dir;
    },
    async services(opts) {
      s = await makeServices(opts);
      return s;
    },
    watch(dir, clock, events, arm) {
      const services = this.s;
      watcher = new PolicyWatcher(
        dir,
        services.policies,
        arm ?? ((name) => services.governor.recordServed(name).then(() => services.governor.armSchedules(name))),
        clock,
        events,
      );
      return watcher;
    },
  };
}
