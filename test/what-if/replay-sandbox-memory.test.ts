// docs/policy-authors.md: "history is read in pages, so a long history costs time, not memory".
// The replay's sandbox kept, in its in-memory store, every fact patch and every decision (with
// its explanation) the candidate took: what it held grew with the history. It keeps none now.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, vi } from "vitest";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { HISTORY_PAGE } from "../../src/what-if/history.ts";
import { makeServices, RULES_DIR } from "../helpers/services.ts";

test("a replay over a long history holds no more than a few pages of it at the end", async () => {
  const s = await makeServices();
  try {
    await s.governor.putObject("w", { policy: "queue-worker", memory: {} });
    const N = 4 * HISTORY_PAGE;
    for (let i = 0; i < N; i++) {
      await s.governor.postFacts("w", { queue: { depth: i % 2 }, pad: "x".repeat(1000) });
      await s.advance(1000);
    }
    const stores = new Set<MemoryStore>();
    const commit = MemoryStore.prototype.commit;
    const spy = vi.spyOn(MemoryStore.prototype, "commit").mockImplementation(function (this: MemoryStore, ...args) {
      stores.add(this);
      return commit.apply(this, args as Parameters<typeof commit>);
    });
    const policy = JSON.parse(readFileSync(join(RULES_DIR, "queue-worker.json"), "utf8"));
    const report = await s.whatIf.replay("w", policy);
    spy.mockRestore();
    expect(report.differences).toEqual([]);
    stores.delete(s.store as MemoryStore);
    expect(stores.size).toBe(1);
    const sandbox = [...stores][0]!;
    const journal = await sandbox.journal("w", -1, 1e9);
    const decisions = await sandbox.decisionsAfter("w", 1e9);
    // Held at once by one replay: bounded by a few pages, not by the history's length.
    expect(journal.length).toBeLessThanOrEqual(2 * HISTORY_PAGE);
    expect(decisions.length).toBeLessThanOrEqual(2 * HISTORY_PAGE);
  } finally {
    await s.close();
  }
});
