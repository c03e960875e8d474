// A reload that changes a schedule's cron under the same name: each object's tick armed for the
// old cron is re-armed by the arming walk, and one that falls due before the walk reaches its
// object is re-armed when it falls due, not fired under the new version (`* * * * *` then
// `0 * * * *`: a tick at 00:01 under the hourly version). Each store keeps the schedule each tick
// was armed for: on a libsql database, and in memory. A tick whose row keeps none (armed before
// migration 0009) is told by its due time: at the first start after the upgrade, one left overdue
// by a cron changed while the server was down is re-armed, not fired.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, expect, test } from "vitest";
import { scheduleSpec } from "../../src/core/schedule.ts";
import type { Store } from "../../src/core/store.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { MemoryStore } from "../../src/storage/memory-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { scheduledPolicy } from "../helpers/policies.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const load = (cron: string, version: string) =>
  s!.policies.loadText(JSON.stringify({ ...scheduledPolicy({ name: "p", cron }), version }), "inline/p.json");

const stores: [string, () => Store][] = [
  ["libsql", () => new LibsqlStore({ url: ":memory:" })],
  ["memory", () => new MemoryStore()],
];

/**
 * Services from `start` on `store` (kept in `s`), p ticking every minute and object o armed for
 * it; and the ticks fired from then on, as `o tick <time>`.
 */
async function minutelyObject(start: string, store: Store): Promise<{ services: TestServices; fired: string[] }> {
  const services = await makeServices({ start: Date.parse(start), store });
  s = services;
  expect(load("* * * * *", "1").ok).toBe(true);
  await services.governor.armSchedules("p");
  await services.governor.putObject("o", { policy: "p" });
  const fired: string[] = [];
  services.governor.events.on("timer:fired", (id, name) =>
    fired.push(`${id} ${name} ${new Date(services.clock.now()).toISOString()}`),
  );
  return { services, fired };
}

test.each(stores)("%s: keeps the schedule each tick was armed for, its time zone included", async (_name, store) => {
  s = await makeServices({ start: Date.parse("2026-01-01T00:00:30Z"), store: store() });
  const policy = scheduledPolicy({ name: "p", cron: "0 9 * * *", timezone: "Europe/Berlin" });
  expect(s.policies.loadText(JSON.stringify(policy), "inline/p.json").ok).toBe(true);
  await s.governor.putObject("o", { policy: "p" });
  // What tells a tick of the schedule as it stands from one armed for another (see TimerFiring's
  // stale): libsql read its text only up to a NUL, and the cron and zone were joined with one.
  expect(await s.store.timerSpec!("o", "tick")).toBe(scheduleSpec(policy.schedules[0]!));
  expect(scheduleSpec(policy.schedules[0]!)).toContain("Europe/Berlin");
});

test.each(stores)(
  "%s: a tick armed for a cron a reload changed is re-armed for the new cron, not fired, when it falls due first",
  async (_name, store) => {
    const { services, fired } = await minutelyObject("2026-01-01T00:00:30Z", store());
    // Reloaded hourly; the arming walk has not reached o when its minutely tick falls due.
    expect(load("0 * * * *", "2").ok).toBe(true);
    await services.advance(2 * 60_000);
    expect(fired).toEqual([]);
    const object = await services.governor.getObject("o");
    expect(object?.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2026-01-01T01:00:00Z"));
    await services.governor.armSchedules("p");
    await services.advance(60 * 60_000);
    expect(fired).toEqual(["o tick 2026-01-01T01:00:00.000Z"]);
  },
);

test.each(stores)("%s: a tick armed for the old cron at a moment the new cron has too fires", async (_name, store) => {
  const { services, fired } = await minutelyObject("2026-01-01T00:59:30Z", store());
  expect(load("0 * * * *", "2").ok).toBe(true);
  await services.advance(60_000);
  expect(fired).toEqual(["o tick 2026-01-01T01:00:00.000Z"]);
});

test("a tick armed before the store kept schedules (no spec) for a cron changed while the server was down does not fire at the restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-pre-0009-"));
  try {
    const url = `file:${join(dir, "vigil.db")}`;
    const clock = new VirtualClock(Date.parse("2026-01-01T00:00:30Z"));
    const boot = booter(url, clock);
    let g = await boot("* * * * *", "1");
    await g.governor.start();
    await g.governor.putObject("o", { policy: "p" });
    await g.governor.close();
    await g.store.close();
    // As a database from before migration 0009 has it: the tick's row keeps no schedule.
    const db = createClient({ url });
    const rows = await db.execute("UPDATE timers SET spec = NULL WHERE object_id = 'o' AND name = 'tick'");
    db.close();
    expect(rows.rowsAffected).toBe(1);

    // Down past the minutely tick (00:01); up again with the cron changed to hourly.
    clock.jumpTo(Date.parse("2026-01-01T00:02:30Z"));
    g = await boot("0 * * * *", "2");
    const fired: string[] = [];
    g.governor.events.on("timer:fired", (id, name) =>
      fired.push(`${id} ${name} ${new Date(clock.now()).toISOString()}`),
    );
    await g.governor.start();
    await clock.advance(60_000, () => g.governor.idle());
    expect(fired).toEqual([]);
    const object = await g.governor.getObject("o");
    expect(object?.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse("2026-01-01T01:00:00Z"));
    await clock.advance(60 * 60_000, () => g.governor.idle());
    expect(fired).toEqual(["o tick 2026-01-01T01:00:00.000Z"]);
    await g.governor.close();
    await g.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// docs/policy-authors.md, "Downtime": a tick that fell due while the server was down fires once
// after the restart, late; but not one of a schedule whose cron changed meanwhile (its file
// edited while the server was down): that tick is re-armed for the new cron, as a reload's is,
// and the ticks the new cron would have had during the downtime fire none either.
test.each([
  ["0 * * * *", ["o tick 2026-01-01T02:40:30.000Z late"], "2026-01-01T03:00:00Z"],
  ["30 * * * *", [], "2026-01-01T03:30:00Z"],
  // The new cron ticks at 01:00 too, when the old tick was due: that one fires, late.
  ["*/5 * * * *", ["o tick 2026-01-01T02:40:30.000Z late"], "2026-01-01T02:45:00Z"],
])(
  "down past its ticks and started again with the cron %s (it was hourly): what fires at the restart",
  async (cron, atRestart, next) => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-cron-down-"));
    try {
      const url = `file:${join(dir, "vigil.db")}`;
      const clock = new VirtualClock(Date.parse("2026-01-01T00:00:30Z"));
      const boot = booter(url, clock);
      let g = await boot("0 * * * *", "1");
      await g.governor.start();
      await g.governor.putObject("o", { policy: "p" });
      await g.governor.close();
      await g.store.close();

      // Down from 00:00:30 to 02:40:30, past the ticks of 01:00 and 02:00 (and of 00:30, 01:30
      // and 02:30 under the new cron, which has none at 01:00: then the tick would fire, late).
      clock.jumpTo(Date.parse("2026-01-01T02:40:30Z"));
      g = await boot(cron, cron === "0 * * * *" ? "1" : "2");
      const fired: string[] = [];
      g.governor.events.on("timer:fired", (id, name, late) =>
        fired.push(`${id} ${name} ${new Date(clock.now()).toISOString()}${late ? " late" : ""}`),
      );
      await g.governor.start();
      await clock.advance(1000, () => g.governor.idle());
      expect(fired).toEqual(atRestart);
      // The next tick is the cron's first after the restart.
      const object = await g.governor.getObject("o");
      expect(object?.timers.find((t) => t.name === "tick")?.dueAt).toBe(Date.parse(next));
      await g.governor.close();
      await g.store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/**
 * Starts of a governor on the database at `url` serving policy p (`cron`, `version`), each a
 * server started again after the last one closed.
 */
function booter(url: string, clock: VirtualClock) {
  return async (cron: string, version: string) => {
    const policies = new PolicyRegistry(() => clock.now());
    expect(
      policies.loadText(JSON.stringify({ ...scheduledPolicy({ name: "p", cron }), version }), "inline/p.json").ok,
    ).toBe(true);
    const store = new LibsqlStore({ url });
    const governor = new Governor({
      store,
      policies,
      drivers: [new SimulatedDriver({ clock })],
      clock,
      random: () => 0.5,
    });
    return { governor, store };
  };
}
