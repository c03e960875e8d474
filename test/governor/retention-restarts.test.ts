// When retention runs across restarts. Found in a review: the first run was an hour after start,
// so a server restarted more often than hourly (a crash loop, frequent deploys, a machine stopped
// when idle) never pruned, and a run cut short waited an hour after the restart. The first run is
// now due an hour after the last run that finished on the database (recorded in it), and a few
// minutes after start at the earliest.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { Retention, RETENTION_START_DELAY_MS, type RetentionPolicy } from "../../src/governor/retention.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, START } from "../helpers/services.ts";

const MINUTE = 60_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const policy: RetentionPolicy = { journalMs: null, decisionsMs: null, decisionsPerObject: 2, idempotencyMs: null };

/**
 * A server on `file` from `at` for `lifeMs` of virtual time, its retention started as main.ts
 * starts it, stopped (the run under way told to stop) before it closes. Returns when its runs
 * started, and the decisions of `w` it left.
 */
async function serve(file: string, at: number, lifeMs: number, { seed = false, cut = false } = {}) {
  const s = await makeServices({ store: new LibsqlStore({ url: `file:${file}` }), start: at });
  try {
    if (seed) {
      await s.governor.putObject("w", { policy: "queue-worker" });
      for (let i = 1; i <= 8; i++) await s.governor.postFacts("w", { n: i });
    }
    const runs: number[] = [];
    const retention = new Retention(s.store, s.clock, policy, (e) => {
      throw e;
    });
    const runOnce = retention.runOnce.bind(retention);
    // The run under way: the virtual time waits for it, as a run takes no time on it.
    let running: Promise<unknown> | null = null;
    retention.runOnce = () => {
      runs.push(s.clock.now() - START);
      // A shutdown as the run begins: it stops before its first object.
      if (cut) void retention.stop();
      const run = runOnce();
      running = run.finally(() => (running = null));
      return run;
    };
    retention.start();
    await s.clock.advance(lifeMs, async () => {
      await s.governor.idle();
      while (running) await running;
    });
    await retention.stop();
    return { runs, decisions: (await s.governor.listDecisions("w", 100)).length };
  } finally {
    await s.close();
  }
}

test("a server restarted every 30 minutes prunes once an hour, the first a few minutes after its first start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-retention-restarts-"));
  dirs.push(dir);
  const file = join(dir, "vigil.db");
  const runs: number[] = [];
  const left: number[] = [];
  for (let i = 0; i < 12; i++) {
    const life = await serve(file, START + i * 30 * MINUTE, 30 * MINUTE, { seed: i === 0 });
    runs.push(...life.runs);
    left.push(life.decisions);
  }
  // Six hours of restarts: the object is trimmed to its newest 2 by the first server already (it
  // kept its 9 decisions through every one of them), and a run comes an hour after the one
  // before, whichever server it falls in.
  expect(left).toEqual(Array<number>(12).fill(2));
  expect(runs).toEqual([0, 1, 2, 3, 4, 5].map((h) => RETENTION_START_DELAY_MS + h * 60 * MINUTE));
});

test("a run cut short is not recorded: the next server runs a few minutes after its start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-retention-restarts-"));
  dirs.push(dir);
  const file = join(dir, "vigil.db");
  // The first server's run finishes; the second's, 65 minutes in, is cut by its shutdown.
  expect((await serve(file, START, 10 * MINUTE, { seed: true })).runs).toEqual([RETENTION_START_DELAY_MS]);
  const cut = await serve(file, START + 60 * MINUTE, 10 * MINUTE, { cut: true });
  expect(cut.runs).toEqual([65 * MINUTE]);
  // The third, started 70 minutes in, does not wait for an hour after the cut run.
  expect((await serve(file, START + 70 * MINUTE, 10 * MINUTE)).runs).toEqual([75 * MINUTE]);
});
