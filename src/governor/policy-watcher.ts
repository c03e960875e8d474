// Hot reload: watches the rules directory and loads an edited file as a new policy version
// (content hash). Objects use it from their next evaluation. An invalid file is refused and
// reported, and the previous version keeps serving.

import { lstatSync, readdirSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.ts";
import {
  fileDigest,
  fileEndsEarly,
  isPolicyFileName,
  type LoadResult,
  type PolicyRegistry,
} from "./policy-registry.ts";
import type { PolicyInfo } from "./services.ts";

export interface WatcherEvents {
  /** `previous`: the version loaded from the file before, serving until now (null: none). */
  reloaded(file: string, result: LoadResult | { removed: true }, previous: PolicyInfo | null): void;
  /**
   * Reading the directory failed (it went away, say); reported once. The polls go on, and load
   * what is there once it can be read again.
   */
  failed?(error: Error): void;
}

/** Editors write a file in several steps; wait this long after the last event. */
const SETTLE_MS = 150;

/**
 * How many more times a file that ends before its JSON does is left to settle (about a second
 * in all) before it is loaded, and refused: a copy or a save in pieces further apart than
 * SETTLE_MS would otherwise be reported refused before its last piece is written.
 */
const HALF_WRITTEN_SETTLES = 6;

/**
 * How often the directory is read again for what its events do not tell: a symlinked file whose
 * target is edited, a rules directory that is itself a symlink switched to another release.
 */
export const POLL_MS = 2000;

export class PolicyWatcher {
  private watcher: FSWatcher | null = null;
  private readonly pending = new Map<string, TimerHandle>();
  private polling: TimerHandle | null = null;
  /** The last read of the directory failed (reported once, not at every poll). */
  private failing = false;

  constructor(
    private readonly dir: string,
    private readonly registry: PolicyRegistry,
    /**
     * What a policy's reload leads to (main.ts: the version that serves now recorded,
     * Governor.recordServed, then its objects' cron timers re-armed, Governor.armSchedules).
     */
    private readonly afterReload: (policy: string) => Promise<unknown>,
    private readonly clock: Clock,
    private readonly events: WatcherEvents,
  ) {}

  /**
   * Watches the directory, then reloads what changed since the registry read it (a file saved
   * while the server was starting, between its first load and this watch, is not missed); and
   * reads the directory again every POLL_MS for what no event tells.
   */
  start(): void {
    this.watcher = watch(this.dir, (_event, name) => {
      const file = name ? basename(name) : null;
      if (file !== null && isPolicyFileName(file)) this.settle(join(this.dir, file));
      // Another entry changed (a ConfigMap volume's `..data` symlink swapped to a new version),
      // or one the event does not name: every file is compared with what was read.
      else this.check();
    });
    // An FSWatcher's "error" with no listener is thrown, and would end the process. Reported once:
    // the polls that follow do not report the same failure again.
    this.watcher.on("error", (error) => {
      if (!this.failing) this.events.failed?.(error);
      this.failing = true;
    });
    this.check();
    this.poll();
  }

  private poll(): void {
    this.polling = this.clock.setTimeout(() => {
      this.check();
      this.poll();
    }, POLL_MS);
  }

  /** Reloads each policy file whose bytes are not those the registry read, or that is gone. */
  private check(): void {
    try {
      const here = readdirSync(this.dir)
        .filter(isPolicyFileName)
        .map((f) => join(this.dir, f));
      const read = this.registry.readFiles();
      // A file never read counts as unreadable (""): a symlink whose target is gone is reported
      // once, when it goes, not again at every poll.
      for (const file of here)
        if (!this.pending.has(file) && fileDigest(file) !== (read.get(file) ?? "")) this.settle(file);
      // (The directory as given may end in a slash: paths are compared resolved.)
      const dir = resolve(this.dir);
      for (const file of read.keys()) if (dirname(resolve(file)) === dir && !here.includes(file)) this.settle(file);
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.events.failed?.(e as Error);
      this.failing = true;
    }
  }

  /**
   * Reloads `file` once its events have settled (editors write a file in several steps).
   * `halfWritten`: how many times in a row it was found to end before its JSON does.
   */
  private settle(file: string, halfWritten = 0): void {
    const previous = this.pending.get(file);
    if (previous) this.clock.clearTimeout(previous);
    this.pending.set(
      file,
      this.clock.setTimeout(() => {
        this.pending.delete(file);
        // Bytes the registry has read already are not loaded again, as the polls do not load them:
        // a file written over with what it held (a deploy copying the whole directory, `touch`, a
        // release directory deleted under the watch) would otherwise be logged "policy reloaded",
        // with a new loadedAt, though nothing changed. A file gone or unreadable ("") is reloaded.
        const digest = fileDigest(file);
        if (digest !== "" && digest === this.registry.readFiles().get(file)) return;
        // Most likely still being written: read again a little later, within a bound, so that a
        // file that stays so is refused and reported all the same.
        if (halfWritten < HALF_WRITTEN_SETTLES && fileEndsEarly(file)) return this.settle(file, halfWritten + 1);
        // reload reports its own failures; this catches only a listener that throws, which
        // must not become an unhandled rejection (that would end the process).
        this.reload(file).catch(() => {});
      }, SETTLE_MS),
    );
  }

  /**
   * Loads one file again (what a change event leads to). Never rejects because of the file:
   * the registry refuses what it cannot load, and a failure to re-arm the schedules of a
   * loaded policy is a warning on it (the policy serves; its objects keep their old ticks).
   */
  async reload(file: string): Promise<LoadResult | { removed: true }> {
    const previous = this.registry.servingFrom(file);
    // The entry itself, not what it links to (existsSync follows a link): a symlink whose target is
    // gone, or a loop of them, is a file that cannot be read, refused as a start refuses it.
    if (!entryExists(file)) {
      // A deleted file unloads nothing: objects governed by it keep their last version.
      this.registry.forgetFile(file);
      this.events.reloaded(file, { removed: true }, previous);
      return { removed: true };
    }
    let result = this.registry.loadFile(file);
    if (result.ok) {
      try {
        await this.afterReload(result.policy.info.name);
      } catch (e) {
        // Saving the same bytes again loads nothing (settle compares digests): the way to try again
        // is an edit or a restart, and the warning says so.
        const why = (e as Error)?.message ?? String(e);
        const message = `the policy is loaded, but re-arming its schedules failed: ${why}; its objects keep their old ticks until the file is changed again or the server restarts`;
        result = { ...result, warnings: [...result.warnings, { path: "$.schedules", message }] };
      }
    }
    this.events.reloaded(file, result, previous);
    return result;
  }

  close(): void {
    this.watcher?.close();
    if (this.polling) this.clock.clearTimeout(this.polling);
    this.polling = null;
    for (const h of this.pending.values()) this.clock.clearTimeout(h);
    this.pending.clear();
  }
}

/** Whether `file` names an entry (a symlink counts, whatever it links to); true when that cannot be told. */
function entryExists(file: string): boolean {
  try {
    return lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    // Not known to be gone (a directory on the way that cannot be searched): loading it says why.
    return true;
  }
}

/**
 * What a reload means to an operator, in words: a first load, a new version, a refusal with or
 * without a version still serving, a removal.
 */
export function describeReload(
  result: LoadResult | { removed: true },
  previous: PolicyInfo | null,
): { level: "info" | "warn" | "error"; msg: string } {
  if ("removed" in result)
    return previous
      ? { level: "warn", msg: "policy file removed; its last version keeps serving" }
      : { level: "info", msg: "policy file removed" };
  if (result.ok) return { level: "info", msg: previous ? "policy reloaded" : "policy loaded" };
  return previous
    ? { level: "error", msg: "policy refused; the previous version keeps serving" }
    : { level: "error", msg: "policy refused; no version of it is loaded" };
}

/** One line of the server's log. */
export interface LogLine {
  level: "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * The log lines of a reload: what it means (describeReload), then each of a loaded policy's
 * warnings (validation's, and a failure to re-arm its schedules) or each of a refusal's errors.
 */
export function reloadLines(file: string, r: LoadResult | { removed: true }, previous: PolicyInfo | null): LogLine[] {
  const { level, msg } = describeReload(r, previous);
  const was = previous ? { previous: `${previous.name}@${previous.version}` } : {};
  if ("removed" in r) return [{ level, msg, fields: { file, ...was } }];
  if (!r.ok)
    return r.error.errors.map((p) => ({ level, msg, fields: { file, path: p.path, error: p.message, ...was } }));
  const policy = `${r.policy.info.name}@${r.policy.info.version}`;
  return [{ level, msg, fields: { file, policy, hash: r.policy.info.hash, ...was } }, ...warningLines(file, r)];
}

/**
 * A loaded policy's warnings, a line each (at start-up they follow no reload line), after a line
 * saying why it runs on json-rules-engine when the compiled evaluator does not take it.
 */
export function warningLines(file: string, r: LoadResult & { ok: true }): LogLine[] {
  const policy = `${r.policy.info.name}@${r.policy.info.version}`;
  const { engine } = r.policy.info;
  const fallback: LogLine[] =
    engine.name === "json-rules-engine"
      ? [{ level: "warn", msg: "policy runs on json-rules-engine", fields: { file, policy, reason: engine.reason } }]
      : [];
  return [
    ...fallback,
    ...r.warnings.map((p) => ({
      level: "warn" as const,
      msg: "policy loaded with a warning",
      fields: { file, policy, path: p.path, warning: p.message },
    })),
  ];
}

/**
 * At start-up, a warning for each policy that objects are bound to but whose file did not load
 * (deleted, renamed or refused). Hot reload keeps such a policy's last version serving, and so
 * does a start, from the version stored in the database (PolicyRegistry.loadStored): the warning
 * says which version serves and why its file did not load. A policy with no stored version to
 * serve (none of its decisions stored, or one this Vigil refuses: then named, with why) is not
 * loaded: nothing else would say so until its objects' facts are refused and their timers put
 * off. `census`: the objects of each policy in each state.
 */
export function unloadedPolicyLines(
  census: readonly { policy: string; objects: number }[],
  policies: Pick<PolicyRegistry, "get" | "refusal" | "servesStored" | "storedRefusal">,
): LogLine[] {
  const bound = new Map<string, number>();
  for (const { policy, objects } of census)
    if (objects > 0 && (policies.get(policy) === null || policies.servesStored(policy)))
      bound.set(policy, (bound.get(policy) ?? 0) + objects);
  return [...bound].map(([policy, objects]): LogLine => {
    const serving = policies.get(policy);
    if (serving === null) {
      // A stored version this Vigil refuses (an older one took it) is named, with why: the
      // line alone read as if the database held none.
      const stored = policies.storedRefusal(policy);
      const first = stored?.error.errors[0];
      return {
        level: "warn",
        msg: "objects are bound to a policy that is not loaded: their facts are refused (503) and their timers wait for it",
        fields: {
          policy,
          objects,
          ...(stored
            ? { stored: `${policy}@${stored.version}`, refused: first ? `${first.path}: ${first.message}` : "" }
            : {}),
        },
      };
    }
    const refused = policies.refusal(policy);
    return {
      level: "warn",
      msg: refused
        ? "objects are bound to a policy whose file is refused: the version stored in the database serves"
        : "objects are bound to a policy whose file is gone: the version stored in the database serves",
      fields: { policy: `${policy}@${serving.version}`, hash: serving.hash, objects, file: serving.file },
    };
  });
}
