// `vigil simulate --db` reads each object's journal a page at a time, and a server may write the
// database meanwhile: an object deleted, or deleted and created again under the same id, left
// part of its facts, or the new object's first facts taken for its own. It is refused (exit 2).

import { afterEach, expect, test } from "vitest";
import type { Store } from "../../src/core/store.ts";
import { SimulationError } from "../../src/simulate/model.ts";
import { recordedWorkload } from "../../src/simulate/recorded.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** The store, with `meanwhile` run once, before the journal's first page is read. */
function interleaved(store: Store, meanwhile: () => Promise<void>): Store {
  let done = false;
  return new Proxy(store, {
    get(target, p) {
      const v = Reflect.get(target, p, target) as unknown;
      if (p === "journal")
        return async (...args: Parameters<Store["journal"]>) => {
          if (!done) {
            done = true;
            await meanwhile();
          }
          return target.journal(...args);
        };
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

test.each([
  ["deleted", false],
  ["deleted and created again", true],
])("an object %s while its journal is read is refused, not simulated from what was read", async (_what, again) => {
  s = await makeServices();
  const g = s.governor;
  await g.putObject("w", { policy: "queue-worker", memory: {} });
  for (let i = 0; i < 6; i++) {
    await s.advance(60_000);
    await g.postFacts("w", { queue: { depth: i % 2 } });
  }
  const services = s;
  const store = interleaved(s.store, async () => {
    await g.deleteObject("w");
    if (!again) return;
    await g.putObject("w", { policy: "queue-worker", memory: { queue: { depth: 9 } } });
    await services.advance(1000);
    await g.postFacts("w", { jobs: { inflight: 1 } });
  });
  const read = recordedWorkload(store, ["w"]);
  await expect(read).rejects.toThrow(SimulationError);
  await expect(read).rejects.toThrow('object "w" was deleted while its history was read; simulate again');
});
