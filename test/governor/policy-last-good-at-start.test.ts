// A policy whose file is refused (or deleted) keeps its last version serving while the server
// runs; a restart must not turn that into an outage. At start, a policy objects are bound to
// whose file did not load serves the version of it stored in the database: the same version
// and hash, shown with its file's refusal, its objects' facts evaluated and their schedules
// armed; a valid file replaces it as a reload does. Real servers on a libsql file, started in
// turn, and governors on a libsql file with a virtual clock for the schedules.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { expect, test } from "vitest";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { PolicyWatcher } from "../../src/governor/policy-watcher.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { rulesServers } from "../helpers/rules-servers.ts";
import { START } from "../helpers/services.ts";

const { workDir, serve, closeLast } = rulesServers("vigil-last-good-");

const json = { "content-type": "application/json" };

/** Breaks a policy file as a typo would: an operator json-rules-engine does not have. */
function breakFile(file: string): void {
  writeFileSync(file, readFileSync(file, "utf8").replace("greaterThan", "greaterThen"));
}

test("a policy whose file is refused at start serves its stored version, with the refusal", async () => {
  const dir = workDir();
  const first = await serve(dir);
  const put = await fetch(`${first.url}/v1/objects/q1`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({ policy: "queue-worker" }),
  });
  expect(put.status).toBe(201);
  const before = (await (await fetch(`${first.url}/v1/policies/queue-worker`)).json()) as Record<string, unknown>;
  await closeLast();

  const file = join(dir, "rules", "queue-worker.json");
  breakFile(file);
  const lines: string[] = [];
  const second = await serve(dir, lines);

  const got = await fetch(`${second.url}/v1/policies/queue-worker`);
  expect(got.status).toBe(200);
  const policy = (await got.json()) as Record<string, unknown>;
  expect(policy).toMatchObject({ name: "queue-worker", version: before.version, hash: before.hash, file });
  expect(policy.refused).toMatchObject({ file, errors: [{ path: expect.stringContaining("operator") }] });
  const list = (await (await fetch(`${second.url}/v1/policies`)).json()) as {
    items: { name: string; hash: string }[];
    errors: { file: string }[];
  };
  expect(list.items.find((p) => p.name === "queue-worker")?.hash).toBe(before.hash);
  expect(list.errors.map((e) => e.file)).toEqual([file]);

  // Its object is governed: facts are evaluated under the stored version.
  const facts = await fetch(`${second.url}/v1/objects/q1/facts`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ facts: { queue: { depth: 3 } } }),
  });
  expect([facts.status, facts.status === 200 ? "" : await facts.text()]).toEqual([200, ""]);
  const { decision } = (await facts.json()) as { decision: { policy: Record<string, unknown>; outcome: string } };
  expect(decision.policy).toMatchObject({ name: "queue-worker", version: before.version });
  expect(decision.outcome).toBe("wake");

  const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.objects !== undefined);
  expect(warned).toMatchObject([
    {
      level: "warn",
      msg: "objects are bound to a policy whose file is refused: the version stored in the database serves",
      policy: `queue-worker@${String(before.version)}`,
      hash: before.hash,
      objects: 1,
      file,
    },
  ]);
});

/** One libsql file and one clock; `boot()` starts a governor on them with the policies in `rules`. */
function world(dir: string) {
  const clock = new VirtualClock(START);
  const url = `file:${join(dir, "vigil.db")}`;
  const boot = async () => {
    const policies = new PolicyRegistry(() => clock.now());
    policies.loadDirectory(join(dir, "rules"));
    const store = new LibsqlStore({ url });
    const governor = new Governor({
      store,
      policies,
      drivers: [new SimulatedDriver({ clock })],
      clock,
      random: () => 0.5,
    });
    await governor.start();
    const close = async () => {
      await governor.close();
      await store.close();
    };
    return { governor, policies, store, close };
  };
  return { clock, boot };
}

/** Writes `text` to `file` and has a watcher of `dir`'s rules reload it into `g`, as an edit does; it must load. */
function reloader(
  dir: string,
  g: Awaited<ReturnType<ReturnType<typeof world>["boot"]>>,
  clock: VirtualClock,
  file: string,
) {
  return async (text: string) => {
    writeFileSync(file, text);
    const r = await new PolicyWatcher(
      join(dir, "rules"),
      g.policies,
      (name) => g.governor.recordServed(name).then(() => g.governor.armSchedules(name)),
      clock,
      {
        reloaded: () => {},
      },
    ).reload(file);
    expect("ok" in r && r.ok).toBe(true);
  };
}

test("a policy whose file is gone at start serves its stored version: its ticks fire, and a new file replaces it", async () => {
  const dir = workDir();
  const { clock, boot } = world(dir);
  let g = await boot();
  await g.governor.putObject("m1", { policy: "continuous-monitor" });
  const served = g.policies.get("continuous-monitor")!;
  await g.close();

  const file = join(dir, "rules", "continuous-monitor.json");
  const text = readFileSync(file, "utf8");
  rmSync(file);
  // Down past the next tick: it fires at start, evaluated under the stored version.
  clock.jumpTo(clock.now() + 10 * 60_000);
  g = await boot();
  expect(g.policies.get("continuous-monitor")).toMatchObject({
    version: served.version,
    hash: served.hash,
    file,
  });
  expect(g.policies.servesStored("continuous-monitor")).toBe(true);
  expect(g.policies.refusal("continuous-monitor")).toBeNull();
  const fired: string[] = [];
  g.governor.events.on("timer:fired", (id, name) => fired.push(`${id} ${name}`));
  const errors: string[] = [];
  g.governor.events.on("governor:error", (e) => errors.push(e.message));
  await clock.advance(3 * 60_000, () => g.governor.idle());
  expect(fired.filter((f) => f === "m1 sweep").length).toBeGreaterThanOrEqual(3);
  expect(errors).toEqual([]);
  const decisions = await g.governor.listDecisions("m1", 1);
  expect(decisions[0]!.policy).toMatchObject({ version: served.version, hash: served.hash });

  // The file is back, edited: it replaces the stored version as a reload does.
  writeFileSync(file, text.replace(`"version": "${served.version}"`, `"version": "${served.version}-b"`));
  const reloads: [string, string | undefined][] = [];
  const watcher = new PolicyWatcher(
    join(dir, "rules"),
    g.policies,
    (name) => g.governor.recordServed(name).then(() => g.governor.armSchedules(name)),
    clock,
    {
      reloaded: (_file, r, previous) => reloads.push(["ok" in r && r.ok ? "loaded" : "not loaded", previous?.hash]),
    },
  );
  await watcher.reload(file);
  expect(reloads).toEqual([["loaded", served.hash]]);
  expect(g.policies.get("continuous-monitor")?.version).toBe(`${served.version}-b`);
  expect(g.policies.servesStored("continuous-monitor")).toBe(false);
  await g.close();
});

// A version's row is written when it is first used: a file edited from v1 to v2 and back to v1's
// text takes no new row, and the row stored last is v2's. In a database where no load was recorded
// (from before migration 0008's policy_served), the version that serves at start is the one the
// objects' newest decision was taken under (v1), not v2, which had stopped serving.
test("a policy edited back to an earlier version and then refused at start serves the version used last", async () => {
  const dir = workDir();
  const { clock, boot } = world(dir);
  const g = await boot();
  const file = join(dir, "rules", "queue-worker.json");
  const v1 = readFileSync(file, "utf8");
  const reload = reloader(dir, g, clock, file);
  await g.governor.putObject("q1", { policy: "queue-worker" });
  await g.governor.postFacts("q1", { queue: { depth: 1 } });
  const first = g.policies.get("queue-worker")!;
  await reload(v1.replace(`"version": "${first.version}"`, `"version": "${first.version}-b"`));
  await g.governor.postFacts("q1", { queue: { depth: 2 } });
  await reload(v1);
  const last = await g.governor.postFacts("q1", { queue: { depth: 3 } });
  expect(last.decision.policy).toEqual({ name: "queue-worker", version: first.version, hash: first.hash });
  await g.close();
  // As in a database from before policy_served: its row, which the loads wrote, is not there.
  const client = createClient({ url: `file:${join(dir, "vigil.db")}` });
  await client.execute("DELETE FROM policy_served WHERE policy = 'queue-worker'");
  client.close();

  breakFile(file);
  const again = await boot();
  expect(again.policies.get("queue-worker")).toMatchObject({ version: first.version, hash: first.hash, file });
  expect(again.policies.refusal("queue-worker")).not.toBeNull();
  await again.close();
});

// With no decision taken after the edit is undone, the objects' newest decision is v2's: the
// version served last is known only because each load records it (policy_served).
test("a policy edited back to an earlier version with no decision since, then refused at start, serves the version loaded last", async () => {
  const dir = workDir();
  const { clock, boot } = world(dir);
  const g = await boot();
  const file = join(dir, "rules", "queue-worker.json");
  const v1 = readFileSync(file, "utf8");
  const reload = reloader(dir, g, clock, file);
  await g.governor.putObject("q1", { policy: "queue-worker" });
  await g.governor.postFacts("q1", { queue: { depth: 1 } });
  const first = g.policies.get("queue-worker")!;
  await reload(v1.replace(`"version": "${first.version}"`, `"version": "${first.version}-b"`));
  const second = await g.governor.postFacts("q1", { queue: { depth: 2 } });
  expect(second.decision.policy.version).toBe(`${first.version}-b`);
  await reload(v1);
  expect(g.policies.get("queue-worker")?.hash).toBe(first.hash);
  await g.close();

  breakFile(file);
  const again = await boot();
  expect(again.policies.get("queue-worker")).toMatchObject({ version: first.version, hash: first.hash, file });
  expect(again.policies.refusal("queue-worker")).not.toBeNull();
  await again.close();
});
