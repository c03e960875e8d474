// A replay reads the object's history a page at a time, giving the event loop turns between: a
// live server may delete the object meanwhile, or delete it and create it again under the same
// id. The pages then held part of its history, or the new object's decisions and facts taken for
// the old one's, and the report showed differences that never happened. It is a 404, or a 409.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { WhatIf } from "../../src/what-if/service.ts";
import { makeServices, RULES_DIR, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const queueWorker = () => JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8")) as unknown;

/** A worker with a dozen facts. */
async function worker(services: TestServices): Promise<void> {
  const g = services.governor;
  await g.putObject("w", { policy: "queue-worker", memory: {} });
  for (let i = 0; i < 12; i++) {
    await services.advance(60_000);
    await g.postFacts("w", { queue: { depth: i % 3 } });
  }
  await services.advance(60_000);
}

/**
 * The store, with `meanwhile` run once when the replay reads the journal the `nth` time (the
 * third is the replay itself, after its look at the first entry and its survey).
 */
function interleaved(store: Store, nth: number, meanwhile: () => Promise<void>): Store {
  let pages = 0;
  return new Proxy(store, {
    get(target, p) {
      const v = Reflect.get(target, p, target) as unknown;
      if (p === "journal")
        return async (...args: Parameters<Store["journal"]>) => {
          if (++pages === nth) await meanwhile();
          return target.journal(...args);
        };
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** The server's WhatIf over `store`. */
const whatIf = (services: TestServices, store: Store) =>
  new WhatIf(store, (id) => services.governor.getObject(id), { now: () => services.clock.now() });

test("the object deleted and created again while its history is read: a 409, not the new object's decisions as differences", async () => {
  s = await makeServices();
  await worker(s);
  const g = s.governor;
  const services = s;
  expect((await s.whatIf.replay("w", queueWorker())).differenceCount).toBe(0);
  const store = interleaved(s.store, 3, async () => {
    await g.deleteObject("w");
    await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 5 } } });
    for (let i = 0; i < 6; i++) {
      await services.advance(100);
      await g.postFacts("w", { jobs: { inflight: 1 }, queue: { depth: 9 } });
    }
  });
  await expect(whatIf(s, store).replay("w", queueWorker())).rejects.toMatchObject({
    kind: "conflict",
    message: 'object "w" was deleted and created again while it was replayed; replay it again',
  });
});

test("the object deleted while its history is read: a 404", async () => {
  s = await makeServices();
  await worker(s);
  const g = s.governor;
  const store = interleaved(s.store, 3, async () => {
    await g.deleteObject("w");
  });
  await expect(whatIf(s, store).replay("w", queueWorker())).rejects.toMatchObject({
    kind: "not-found",
    message: 'object "w" not found',
  });
});
