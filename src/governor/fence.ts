// Fencing: once the governing lease is lost, another server governs the database, and nothing
// this one still has under way (an arrival inside, a timer firing in a mailbox, a driver's answer
// to an action sent before, a retention run) may write to it. Every write of the store goes
// through here and fails with a 503 then; reads go on (a request inside still gets its answer).

import { leaseLost } from "../core/errors.ts";
import type { Store } from "../core/store.ts";

/** The store's methods that write. */
const WRITES: ReadonlySet<PropertyKey> = new Set<keyof Store>([
  "commit",
  "deleteObject",
  "finishDeletions",
  "compactJournal",
  "updateAction",
  "deleteDecisions",
  "pruneObjectDecisions",
  "pruneActions",
  "pruneIdempotency",
  "markRetentionRun",
  "setArmedSchedules",
  "servePolicies",
  "probeWrite",
]);

/**
 * `store`, whose writes fail once `governing()` is false: refused when called, and, in a store
 * that reads before it writes, when the write is made (Store.fenceWrites). Each write let
 * through, and each claim of the lease, is handed to `watch` with the method's name
 * (readiness.ts: WriteRefusals).
 */
export function fenced(
  store: Store,
  governing: () => boolean,
  watch?: (write: Promise<unknown>, method: keyof Store) => void,
): Store {
  store.fenceWrites?.(governing);
  // Each method wrapped once (the hot path reads `commit` for every group), and again if the
  // store's own method is replaced (a test's stand-in).
  const methods = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let method = methods.get(value);
      if (method === undefined) {
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        const watched =
          watch && (WRITES.has(prop) || prop === "claimLease")
            ? (...args: unknown[]) => {
                const write = bound(...args) as Promise<unknown>;
                watch(write, prop as keyof Store);
                return write;
              }
            : bound;
        method = WRITES.has(prop)
          ? (...args: unknown[]) => (governing() ? watched(...args) : Promise.reject(leaseLost()))
          : watched;
        methods.set(value, method);
      }
      return method;
    },
  });
}
